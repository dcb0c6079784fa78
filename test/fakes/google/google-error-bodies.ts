// Error bodies as Google's front end sends them (SYNC-APIS.md §1.5): the client under test parses
// these exact shapes, so they live in one place.

export interface FakeErrorResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export function apiError(code: number, message: string, reason: string, domain = "global", status?: string): FakeErrorResponse {
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain, reason }], ...(status ? { status } : {}) } },
  };
}

export const loginRequired = (): FakeErrorResponse => ({
  status: 401,
  body: { error: { code: 401, message: "Login Required.", status: "UNAUTHENTICATED",
    errors: [{ message: "Login Required.", domain: "global", reason: "required", location: "Authorization", locationType: "header" }] } },
});

export const invalidCredentials = (): FakeErrorResponse => ({
  status: 401,
  body: { error: { code: 401, status: "UNAUTHENTICATED",
    message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    errors: [{ message: "Invalid Credentials", domain: "global", reason: "authError", location: "Authorization", locationType: "header" }] } },
});

export const notAuthorized = (): FakeErrorResponse =>
  apiError(403, "Not Authorized to access this resource/api", "forbidden");

export const insufficientScopes = (): FakeErrorResponse => ({
  status: 403,
  body: { error: { code: 403, message: "Request had insufficient authentication scopes.", status: "PERMISSION_DENIED",
    errors: [{ message: "Insufficient Permission", domain: "global", reason: "insufficientPermissions" }] } },
});

export const invalidInput = (what: string): FakeErrorResponse =>
  apiError(400, `Invalid Input: ${what}`, "invalid", "global", "INVALID_ARGUMENT");

export const notFound = (what: string): FakeErrorResponse => apiError(404, `Resource Not Found: ${what}`, "notFound");

export const rateLimitExceeded429 = (): FakeErrorResponse =>
  apiError(429, "Resource has been exhausted (e.g. check quota).", "rateLimitExceeded", "global", "RESOURCE_EXHAUSTED");

export const userRateLimitExceeded403 = (): FakeErrorResponse =>
  apiError(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits");

export const quotaPerMinuteExceeded403 = (): FakeErrorResponse =>
  apiError(403, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com' for consumer 'project_number:123'.",
    "rateLimitExceeded", "usageLimits", "RESOURCE_EXHAUSTED");

export const quotaExceeded403 = (): FakeErrorResponse =>
  apiError(403, "Quota exceeded", "quotaExceeded", "usageLimits");

export const backendError = (code: 500 | 502 | 503): FakeErrorResponse =>
  code === 503 ? apiError(503, "The service is currently unavailable.", "backendError", "global", "UNAVAILABLE")
    : apiError(code, "Internal error encountered.", "backendError", "global", "INTERNAL");

/** Token endpoint (OAuth 2.0 error format, not the API's). */
export const unauthorizedClient = (): FakeErrorResponse => ({
  status: 401,
  body: { error: "unauthorized_client",
    error_description: "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested." },
});

export const invalidGrant = (description: string): FakeErrorResponse => ({
  status: 400,
  body: { error: "invalid_grant", error_description: description },
});

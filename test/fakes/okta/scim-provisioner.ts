// What an Okta org sends a SCIM 2.0 app for each provisioning event, request for request (Okta's
// "SCIM 2.0 reference" for OIN integrations): look the user up by userName before creating, POST the app
// profile, GET then PUT the whole user for a profile push, and a path-less PATCH of `active` to
// deactivate or reactivate. Okta never sends DELETE /Users. Every request is recorded for the tests.

type Json = Record<string, unknown>;

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/** The SCIM app user profile Okta maps from the Okta user (the app's default attribute mappings). */
export interface AppUserProfile {
  readonly userName: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  readonly emailType: string;
}

export interface ScimCall {
  readonly method: string;
  /** Path after the SCIM base URL, query included, as sent (percent-encoded). */
  readonly path: string;
  readonly body?: unknown;
  readonly status: number;
}

/** A SCIM answer Okta cannot use: Okta shows it as the app assignment's provisioning error. */
export class ProvisioningError extends Error {
  constructor(readonly call: ScimCall, readonly response: unknown) {
    super(`${call.method} ${call.path} answered ${call.status}`);
  }
}

// Okta's SCIM client headers (Okta SCIM 2.0 reference; the Okta developer blog's SCIM walkthroughs)
const OKTA_HEADERS = {
  "user-agent": "Okta SCIM Client 1.0.0",
  accept: "application/scim+json",
  "accept-charset": "utf-8",
};

export class ScimProvisioner {
  readonly calls: ScimCall[] = [];

  constructor(private readonly baseUrl: string, private readonly authorization: string) {}

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...OKTA_HEADERS, authorization: this.authorization,
        ...(body === undefined ? {} : { "content-type": "application/scim+json; charset=utf-8" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json: unknown = text.trim() === "" ? undefined : JSON.parse(text);
    const call: ScimCall = { method, path, ...(body === undefined ? {} : { body }), status: response.status };
    this.calls.push(call);
    if (response.status >= 300) throw new ProvisioningError(call, json);
    return json;
  }

  /** "Check if the user exists": Okta's own query string, paged as Okta pages imports. */
  async findByUserName(userName: string): Promise<Json | undefined> {
    const filter = encodeURIComponent(`userName eq "${userName}"`);
    const list = (await this.send("GET", `/Users?filter=${filter}&startIndex=1&count=100`)) as Json;
    if (!Array.isArray(list.schemas) || !list.schemas.includes(LIST_RESPONSE)) {
      throw new ProvisioningError(this.calls.at(-1)!, list);
    }
    return (list.Resources as Json[] | undefined)?.[0];
  }

  /** Create: the app profile, Okta's user id as externalId, a placeholder password, read-only `groups: []`. */
  async create(oktaUserId: string, profile: AppUserProfile, password: string): Promise<Json> {
    return (await this.send("POST", "/Users", {
      schemas: [USER],
      userName: profile.userName,
      name: { givenName: profile.givenName, familyName: profile.familyName },
      emails: [{ primary: true, value: profile.email, type: profile.emailType }],
      displayName: `${profile.givenName} ${profile.familyName}`,
      locale: "en-US",
      externalId: oktaUserId,
      groups: [],
      password,
      active: true,
    })) as Json;
  }

  /** Profile push: Okta reads the user, then replaces it whole with the mapped attributes over what it read. */
  async pushProfile(scimId: string, profile: AppUserProfile): Promise<Json> {
    const current = (await this.send("GET", `/Users/${encodeURIComponent(scimId)}`)) as Json;
    const emails = Array.isArray(current.emails) ? (current.emails as Json[]) : [];
    return (await this.send("PUT", `/Users/${encodeURIComponent(scimId)}`, {
      schemas: [USER],
      id: scimId,
      userName: profile.userName,
      name: { ...(current.name as Json | undefined), givenName: profile.givenName, familyName: profile.familyName },
      emails: [{ ...emails.find((e) => e.primary === true), primary: true, value: profile.email, type: profile.emailType, display: profile.email }],
      active: current.active ?? true,
      groups: [],
      meta: current.meta,
    })) as Json;
  }

  /** Deactivation and reactivation: a path-less replace whose value is `{active}`. */
  async setActive(scimId: string, active: boolean): Promise<Json | undefined> {
    return (await this.send("PATCH", `/Users/${encodeURIComponent(scimId)}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", value: { active } }],
    })) as Json | undefined;
  }
}

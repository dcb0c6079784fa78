// A local Okta org: the parts of the Okta management API (Users, User lifecycle, Application users) that
// Okta's SCIM 2.0 CRUD test calls, on node:http, provisioning one SCIM app the way Okta does. Okta
// provisions asynchronously (the test pauses 20–40 s after each step); this fake finishes the SCIM
// requests before it answers, so the test's pauses can be skipped. A SCIM failure does not fail the
// Okta call, as in Okta: the assignment's syncState becomes ERROR and the failure is kept in `errors`.
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ProvisioningError, ScimProvisioner, type AppUserProfile, type ScimCall } from "./scim-provisioner.ts";

type Json = Record<string, unknown>;

interface OktaUser {
  readonly id: string;
  status: "ACTIVE" | "DEPROVISIONED";
  profile: Json;
  readonly password: string;
  readonly created: string;
  lastUpdated: string;
}

/** An app assignment. Deactivating the user deprovisions it; reactivating provisions it again (Okta keeps it). */
interface AppUser {
  readonly userId: string;
  scimId?: string;
  profile: AppUserProfile;
  provisioned: boolean;
  syncState: "SYNCHRONIZED" | "ERROR";
  readonly created: string;
  lastUpdated: string;
}

export interface OktaOrgFake {
  readonly url: string;
  readonly appId: string;
  readonly apiToken: string;
  /** Every SCIM request the org sent, in order. */
  readonly scimCalls: readonly ScimCall[];
  /** SCIM answers the org could not use (each would show in Okta as a provisioning error). */
  readonly errors: readonly string[];
  close(): Promise<void>;
}

// Okta object ids: a three-character type prefix (00u users, 0oa apps) and 17 base-62 characters
const oktaId = (prefix: string) => prefix + Array.from(crypto.randomBytes(17), (b) => "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[b % 62]).join("");

// Okta's error body (Okta API reference, "Error codes")
const oktaError = (status: number, errorCode: string, errorSummary: string, causes: string[] = []) => ({
  status,
  body: { errorCode, errorSummary, errorLink: errorCode, errorId: oktaId("oae"), errorCauses: causes.map((errorSummary) => ({ errorSummary })) },
});
const notFound = (what: string) => oktaError(404, "E0000007", `Not found: Resource not found: ${what}`);

/** The app's default mappings from the Okta user profile (Okta's SCIM 2.0 app template). */
function mapProfile(user: OktaUser, assigned: Partial<AppUserProfile> = {}): AppUserProfile {
  const p = user.profile;
  return {
    userName: assigned.userName ?? String(p.login),
    givenName: String(p.firstName ?? assigned.givenName ?? ""),
    familyName: String(p.lastName ?? assigned.familyName ?? ""),
    email: String(p.email ?? assigned.email ?? ""),
    emailType: assigned.emailType ?? "work",
  };
}

const sameProfile = (a: AppUserProfile, b: AppUserProfile) => JSON.stringify(a) === JSON.stringify(b);

export async function startOktaOrgFake(options: { scimUrl: string; scimAuthorization: string }): Promise<OktaOrgFake> {
  const appId = oktaId("0oa");
  const apiToken = crypto.randomBytes(21).toString("base64url");
  const scim = new ScimProvisioner(options.scimUrl.replace(/\/+$/, ""), options.scimAuthorization);
  const users = new Map<string, OktaUser>();
  const appUsers = new Map<string, AppUser>();
  const errors: string[] = [];
  const now = () => new Date().toISOString();

  /** Runs one provisioning event; a SCIM failure marks the assignment ERROR instead of failing the Okta call. */
  async function provisioning(appUser: AppUser, event: () => Promise<void>): Promise<void> {
    try {
      await event();
      appUser.syncState = "SYNCHRONIZED";
    } catch (error) {
      if (!(error instanceof ProvisioningError)) throw error;
      appUser.syncState = "ERROR";
      errors.push(`${error.message}: ${JSON.stringify(error.response)}`);
    }
  }

  async function provisionNew(user: OktaUser, appUser: AppUser): Promise<void> {
    await provisioning(appUser, async () => {
      const existing = await scim.findByUserName(appUser.profile.userName);
      if (existing === undefined) {
        appUser.scimId = String((await scim.create(user.id, appUser.profile, user.password)).id);
      } else {
        // Okta links the assignment to the account it found rather than creating a duplicate
        appUser.scimId = String(existing.id);
        if (existing.active === false) await scim.setActive(appUser.scimId, true);
        await scim.pushProfile(appUser.scimId, appUser.profile);
      }
      appUser.provisioned = true;
    });
  }

  const renderUser = (user: OktaUser) => ({
    id: user.id, status: user.status, created: user.created, activated: user.created, statusChanged: user.lastUpdated,
    lastLogin: null, lastUpdated: user.lastUpdated, passwordChanged: user.created,
    type: { id: oktaId("oty") }, profile: user.profile,
    credentials: { password: {}, provider: { type: "OKTA", name: "OKTA" } },
    _links: { self: { href: `${url}/api/v1/users/${user.id}` } },
  });
  const renderAppUser = (appUser: AppUser) => ({
    id: appUser.userId, externalId: appUser.scimId ?? null, created: appUser.created, lastUpdated: appUser.lastUpdated,
    scope: "USER", status: appUser.provisioned ? "PROVISIONED" : "INACTIVE", syncState: appUser.syncState,
    credentials: { userName: appUser.profile.userName },
    profile: { givenName: appUser.profile.givenName, familyName: appUser.profile.familyName, email: appUser.profile.email, emailType: appUser.profile.emailType },
    _links: { app: { href: `${url}/api/v1/apps/${appId}` }, user: { href: `${url}/api/v1/users/${appUser.userId}` } },
  });

  type Answer = { status: number; body?: unknown };

  async function route(method: string, path: string, query: URLSearchParams, body: Json): Promise<Answer> {
    let m: RegExpExecArray | null;
    if (method === "GET" && (m = /^\/api\/v1\/apps\/([^/]+)$/.exec(path))) {
      if (m[1] !== appId) return notFound(`${m[1]} (AppInstance)`);
      return {
        status: 200,
        body: {
          id: appId, name: "scim2testapp", label: "idsync (SCIM 2.0)", status: "ACTIVE", signOnMode: "SAML_2_0",
          features: ["PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION", "REACTIVATE_USERS"],
        },
      };
    }
    if (method === "POST" && path === "/api/v1/users") {
      const profile = (body.profile ?? {}) as Json;
      if (typeof profile.login !== "string" || profile.login === "") return oktaError(400, "E0000001", "Api validation failed: login", ["login: The field cannot be left blank"]);
      if ([...users.values()].some((u) => String(u.profile.login).toLowerCase() === String(profile.login).toLowerCase())) {
        return oktaError(400, "E0000001", "Api validation failed: login", ["login: An object with this field already exists in the current organization"]);
      }
      const password = ((body.credentials as Json | undefined)?.password as Json | undefined)?.value;
      const created = now();
      const user: OktaUser = {
        id: oktaId("00u"), status: query.get("activate") === "false" ? "DEPROVISIONED" : "ACTIVE", profile,
        password: typeof password === "string" ? password : crypto.randomBytes(6).toString("base64url"), created, lastUpdated: created,
      };
      users.set(user.id, user);
      return { status: 200, body: renderUser(user) };
    }
    if ((m = /^\/api\/v1\/users\/([^/]+)(\/lifecycle\/(activate|deactivate))?$/.exec(path))) {
      const user = users.get(m[1]!);
      if (!user) return notFound(`${m[1]} (User)`);
      const appUser = appUsers.get(user.id);
      if (method === "GET" && !m[2]) return { status: 200, body: renderUser(user) };
      if (method === "PUT" && !m[2]) {
        // PUT replaces the whole profile (Okta Users API, "Replace a user")
        user.profile = (body.profile ?? {}) as Json;
        user.lastUpdated = now();
        if (appUser?.provisioned) {
          const mapped = mapProfile(user, appUser.profile);
          if (!sameProfile(mapped, appUser.profile)) {
            appUser.profile = mapped;
            appUser.lastUpdated = user.lastUpdated;
            await provisioning(appUser, async () => void (await scim.pushProfile(appUser.scimId!, mapped)));
          }
        }
        return { status: 200, body: renderUser(user) };
      }
      if (method === "POST" && m[3] === "deactivate") {
        if (user.status === "DEPROVISIONED") return oktaError(403, "E0000001", "Api validation failed: the user is already deactivated");
        user.status = "DEPROVISIONED";
        user.lastUpdated = now();
        if (appUser?.provisioned) {
          await provisioning(appUser, async () => void (await scim.setActive(appUser.scimId!, false)));
          appUser.provisioned = false;
        }
        return { status: 200, body: {} };
      }
      if (method === "POST" && m[3] === "activate") {
        if (user.status === "ACTIVE") return oktaError(403, "E0000016", "Activation failed because the user is already active");
        user.status = "ACTIVE";
        user.lastUpdated = now();
        // Okta help, "Deprovision a user": a reactivated user's previous app integrations are reassigned
        if (appUser && !appUser.provisioned && appUser.scimId !== undefined) {
          await provisioning(appUser, async () => void (await scim.setActive(appUser.scimId!, true)));
          appUser.provisioned = true;
        }
        return { status: 200, body: {} };
      }
    }
    if ((m = /^\/api\/v1\/apps\/([^/]+)\/users(?:\/([^/]+))?$/.exec(path))) {
      if (m[1] !== appId) return notFound(`${m[1]} (AppInstance)`);
      if (method === "POST" && !m[2]) {
        const user = users.get(String(body.id));
        if (!user) return notFound(`${String(body.id)} (User)`);
        const assigned = (body.profile ?? {}) as Partial<AppUserProfile>;
        const userName = (body.credentials as Json | undefined)?.userName;
        const profile = mapProfile(user, { ...assigned, ...(typeof userName === "string" ? { userName } : {}) });
        const existing = appUsers.get(user.id);
        if (!existing) {
          const created = now();
          const appUser: AppUser = { userId: user.id, profile, provisioned: false, syncState: "SYNCHRONIZED", created, lastUpdated: created };
          appUsers.set(user.id, appUser);
          if (user.status === "ACTIVE") await provisionNew(user, appUser);
          return { status: 200, body: renderAppUser(appUser) };
        }
        // assigning an assigned user updates its app profile, pushed when it changed
        if (!sameProfile(profile, existing.profile)) {
          existing.profile = profile;
          existing.lastUpdated = now();
          if (existing.provisioned) await provisioning(existing, async () => void (await scim.pushProfile(existing.scimId!, profile)));
        }
        return { status: 200, body: renderAppUser(existing) };
      }
      if (method === "DELETE" && m[2]) {
        const appUser = appUsers.get(m[2]);
        if (!appUser) return notFound(`${m[2]} (AppUser)`);
        // unassignment deactivates the SCIM user; Okta never sends DELETE /Users
        if (appUser.provisioned) await provisioning(appUser, async () => void (await scim.setActive(appUser.scimId!, false)));
        appUsers.delete(m[2]);
        return { status: 204 };
      }
    }
    return oktaError(404, "E0000022", `The endpoint does not support the provided HTTP method`);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let answer: Answer;
        const target = new URL(req.url ?? "/", "http://okta.invalid");
        const text = Buffer.concat(chunks).toString("utf8");
        let body: Json | undefined;
        try {
          body = text.trim() === "" ? {} : (JSON.parse(text) as Json);
        } catch {
          body = undefined;
        }
        if (req.headers.authorization !== `SSWS ${apiToken}`) answer = oktaError(401, "E0000011", "Invalid token provided");
        else if (body === undefined) answer = oktaError(400, "E0000003", "The request body was not well-formed.");
        else {
          try {
            answer = await route(req.method ?? "GET", target.pathname, target.searchParams, body);
          } catch (error) {
            answer = oktaError(500, "E0000009", `Internal Server Error: ${(error as Error).message}`);
          }
        }
        res.statusCode = answer.status;
        if (answer.body === undefined) return void res.end();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(answer.body));
      })();
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url, appId, apiToken, scimCalls: scim.calls, errors,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

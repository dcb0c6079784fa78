// Which parts of an IdP user's stored resource the rules read: a filter its attributes, an app role,
// an entitlement or an `attributes` rule the core `roles` and `entitlements` (and the idsync extension).
// The loader leaves out the core attributes no rule reads: a large account's plan then parses a small
// part of 100,000 resources (their emails, names and schemas were most of the bytes and of the objects).
import type { MappingRules } from "./mapping-rules.ts";
import { attributesRead } from "./user-condition.ts";

/** RFC 7643's core User attributes as an IdP sends them: the ones a resource may be read without. Extensions (URNs) always stay. */
const CORE_USER_ATTRIBUTES = ["schemas", "id", "externalId", "meta", "userName", "name", "displayName", "nickName", "profileUrl", "title",
  "userType", "preferredLanguage", "locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos", "addresses",
  "groups", "entitlements", "roles", "x509Certificates"];

/** The core attribute names (as spelled by RFC 7643) that no rule reads. Names are compared ignoring case, as the filters match them. */
export function coreAttributesUnread(rules: MappingRules): string[] {
  const read = new Set<string>();
  for (const rule of rules.rules) {
    if (rule.filter !== undefined) for (const name of attributesRead(rule.filter)) read.add(name);
    if (rule.appRole !== undefined || rule.attributes) read.add("roles");
    if (rule.entitlement !== undefined || rule.attributes) read.add("entitlements");
  }
  return CORE_USER_ATTRIBUTES.filter((name) => !read.has(name.toLowerCase()));
}

// Reads a rules document (YAML, of which JSON is a subset) into MappingRules. Every problem is
// reported with the line it stands on; nothing is half-accepted.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from "yaml";
import { DEFAULT_POLICY, type Access, type DomainGrantRule, type MappingRule, type MappingRules, type Role } from "./mapping-rules.ts";
import { parseUserCondition } from "./user-condition.ts";
import { DOMAIN_PATTERN } from "./domain-patterns.ts";
import { publishedEntitlement, publishedRole } from "./assigned-access.ts";

export interface RulesProblem {
  readonly line: number;
  readonly message: string;
}

export class RulesDocumentError extends Error {
  constructor(readonly problems: readonly RulesProblem[]) {
    super(problems.map((p) => `line ${p.line}: ${p.message}`).join("\n"));
    this.name = "RulesDocumentError";
  }
}

const ROLES = new Set(["owner", "admin", "member"]);
const ACCESS = new Set(["read", "write"]);
const EMAIL = /^[^\s@]+@[^\s@]+$/;

class Reader {
  readonly problems: RulesProblem[] = [];
  constructor(private readonly lines: LineCounter) {}

  line(node: Node | null | undefined): number {
    return node?.range ? this.lines.linePos(node.range[0]).line : 1;
  }
  problem(node: Node | null | undefined, message: string): void {
    this.problems.push({ line: this.line(node), message });
  }
  /** Reports keys the schema does not know (a typo should not silently do nothing). */
  known(map: YAMLMap, keys: readonly string[], where: string): void {
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!keys.includes(key)) this.problem(pair.key as Node, `unknown key "${key}" in ${where} (expected ${keys.join(", ")})`);
    }
  }
  scalar(map: YAMLMap, key: string): { node: Node | undefined; value: unknown } {
    const node = map.get(key, true) as Node | undefined;
    if (node === undefined) return { node, value: undefined };
    if (!isScalar(node)) {
      this.problem(node, `"${key}" must be a single value`);
      return { node, value: undefined };
    }
    return { node, value: node.value };
  }
}

function readDomains(reader: Reader, node: Node | undefined, rule: string): DomainGrantRule[] {
  if (node === undefined) return [];
  if (!isMap(node)) {
    reader.problem(node, `${rule}: "domains" maps each domain (or *.pattern) to read or write`);
    return [];
  }
  const grants: DomainGrantRule[] = [];
  for (const pair of node.items) {
    const pattern = isScalar(pair.key) ? String(pair.key.value).toLowerCase() : "";
    const access = isScalar(pair.value) ? String(pair.value.value) : "";
    if (!DOMAIN_PATTERN.test(pattern)) reader.problem(pair.key as Node, `${rule}: "${pattern}" is not a domain or a *.domain pattern`);
    else if (!ACCESS.has(access)) reader.problem(pair.value as Node, `${rule}: access for ${pattern} must be read or write, not "${access}"`);
    else grants.push({ pattern, access: access as Access });
  }
  return grants;
}

function readRule(reader: Reader, node: Node, index: number): MappingRule | undefined {
  if (!isMap(node)) {
    reader.problem(node, `rule ${index + 1} must be a mapping with group, filter, app_role, entitlement or attributes`);
    return undefined;
  }
  reader.known(node, ["name", "group", "filter", "attributes", "app_role", "entitlement", "role", "domains"], `rule ${index + 1}`);
  const name = reader.scalar(node, "name").value;
  const label = typeof name === "string" && name ? `rule "${name}"` : `rule ${index + 1}`;
  const group = reader.scalar(node, "group");
  const filter = reader.scalar(node, "filter");
  const attributes = reader.scalar(node, "attributes");
  const appRole = reader.scalar(node, "app_role");
  const entitlement = reader.scalar(node, "entitlement");
  const role = reader.scalar(node, "role");
  const selectors = [group.value, filter.value, attributes.value === true ? true : undefined, appRole.value, entitlement.value].filter((v) => v !== undefined);
  if (selectors.length !== 1) reader.problem(node, `${label} needs exactly one of group, filter, app_role, entitlement or attributes: true`);
  if (group.value !== undefined && (typeof group.value !== "string" || !group.value.trim())) reader.problem(group.node, `${label}: group must be a group id, name or email`);
  for (const [key, field] of [["app_role", appRole], ["entitlement", entitlement]] as const) {
    if (field.value !== undefined && (typeof field.value !== "string" || !field.value.trim())) reader.problem(field.node, `${label}: ${key} must be the value the IdP sends, as text`);
  }
  if (filter.value !== undefined) {
    try {
      parseUserCondition(String(filter.value));
    } catch (error) {
      reader.problem(filter.node, `${label}: ${(error as Error).message}`);
    }
  }
  if (attributes.value !== undefined && typeof attributes.value !== "boolean") reader.problem(attributes.node, `${label}: attributes must be true or false`);
  if (role.value !== undefined && !ROLES.has(String(role.value))) reader.problem(role.node, `${label}: role must be owner, admin or member, not "${String(role.value)}"`);
  let domains = readDomains(reader, node.get("domains", true) as Node | undefined, label);
  // an app role or entitlement that names what /Roles or /Entitlements publish grants that by itself
  const appRoleValue = typeof appRole.value === "string" && appRole.value.trim() ? appRole.value.trim() : undefined;
  const entitlementValue = typeof entitlement.value === "string" && entitlement.value.trim() ? entitlement.value.trim() : undefined;
  let impliedRole: Role | undefined;
  if (appRoleValue !== undefined && role.value === undefined && domains.length === 0) impliedRole = publishedRole(appRoleValue);
  const impliedGrant = entitlementValue !== undefined && domains.length === 0 ? publishedEntitlement(entitlementValue) : undefined;
  if (impliedGrant) domains = [impliedGrant];
  if (attributes.value !== true && role.value === undefined && impliedRole === undefined && domains.length === 0) {
    const hint = appRoleValue !== undefined ? " (or name owner, admin or member as the app role)"
      : entitlementValue !== undefined ? " (or name <domain>:read or <domain>:write as the entitlement)" : "";
    reader.problem(node, `${label} grants nothing: give it a role and/or domains${hint}`);
  }
  return {
    name: typeof name === "string" && name ? name : `rule ${index + 1}`,
    line: reader.line(node),
    ...(typeof group.value === "string" ? { group: group.value.trim() } : {}),
    ...(filter.value !== undefined ? { filter: String(filter.value) } : {}),
    ...(attributes.value === true ? { attributes: true } : {}),
    ...(appRoleValue !== undefined ? { appRole: appRoleValue } : {}),
    ...(entitlementValue !== undefined ? { entitlement: entitlementValue } : {}),
    ...(role.value !== undefined ? { role: role.value as Role } : impliedRole !== undefined ? { role: impliedRole } : {}),
    domains,
  };
}

function readPolicy(reader: Reader, node: Node | undefined): MappingRules["policy"] {
  if (node === undefined) return DEFAULT_POLICY;
  if (!isMap(node)) {
    reader.problem(node, `"policy" must be a mapping`);
    return DEFAULT_POLICY;
  }
  reader.known(node, ["owner_successor", "org_keys", "removal_brake", "retention_days", "link_by_email"], "policy");
  const successor = reader.scalar(node, "owner_successor");
  if (successor.value !== undefined && successor.value !== null && !EMAIL.test(String(successor.value))) reader.problem(successor.node, `owner_successor must be an email address`);
  const orgKeys = reader.scalar(node, "org_keys");
  if (orgKeys.value !== undefined && orgKeys.value !== "revoke" && orgKeys.value !== "keep-and-alert") reader.problem(orgKeys.node, `org_keys must be revoke or keep-and-alert`);
  const retention = reader.scalar(node, "retention_days");
  if (retention.value !== undefined && !(Number.isInteger(retention.value) && (retention.value as number) >= 0)) reader.problem(retention.node, `retention_days must be a whole number of days`);
  const link = reader.scalar(node, "link_by_email");
  if (link.value !== undefined && typeof link.value !== "boolean") reader.problem(link.node, `link_by_email must be true or false`);
  const brakeNode = node.get("removal_brake", true) as Node | undefined;
  let brake = DEFAULT_POLICY.removalBrake;
  if (brakeNode !== undefined) {
    if (!isMap(brakeNode)) reader.problem(brakeNode, `removal_brake must be a mapping with minimum, percent and window_minutes`);
    else {
      reader.known(brakeNode, ["minimum", "percent", "window_minutes"], "removal_brake");
      const minimum = reader.scalar(brakeNode, "minimum").value ?? brake.minimum;
      const percent = reader.scalar(brakeNode, "percent").value ?? brake.percent;
      const windowMinutes = reader.scalar(brakeNode, "window_minutes").value ?? brake.windowMinutes;
      if (!Number.isInteger(minimum) || (minimum as number) < 0) reader.problem(brakeNode, `removal_brake.minimum must be a whole number`);
      if (typeof percent !== "number" || percent < 0 || percent > 100) reader.problem(brakeNode, `removal_brake.percent must be from 0 to 100`);
      if (!Number.isInteger(windowMinutes) || (windowMinutes as number) < 0 || (windowMinutes as number) > 10_080) reader.problem(brakeNode, `removal_brake.window_minutes must be a whole number of minutes from 0 to 10080 (a week)`);
      brake = { minimum: Number(minimum), percent: Number(percent), windowMinutes: Number(windowMinutes) };
    }
  }
  return {
    ownerSuccessor: typeof successor.value === "string" ? successor.value.toLowerCase() : null,
    orgKeys: orgKeys.value === "keep-and-alert" ? "keep-and-alert" : "revoke",
    removalBrake: brake,
    retentionDays: typeof retention.value === "number" ? retention.value : DEFAULT_POLICY.retentionDays,
    linkByEmail: link.value === true,
  };
}

/** Parses and validates a rules document; throws RulesDocumentError listing every problem by line. */
export function parseRulesDocument(text: string): MappingRules {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const reader = new Reader(lines);
  for (const error of document.errors) reader.problems.push({ line: error.linePos?.[0]?.line ?? 1, message: error.message.split("\n")[0]! });
  if (reader.problems.length) throw new RulesDocumentError(reader.problems);
  const root = document.contents as Node | null;
  if (!isMap(root)) throw new RulesDocumentError([{ line: 1, message: "a rules document is a mapping with version, default, policy and rules" }]);
  reader.known(root, ["version", "default", "policy", "rules"], "the document");
  const version = reader.scalar(root, "version");
  if (version.value !== 1) reader.problem(version.node ?? root, `version must be 1`);
  const defaultRole = reader.scalar(root, "default");
  if (defaultRole.value !== undefined && defaultRole.value !== "none" && defaultRole.value !== "member") reader.problem(defaultRole.node, `default must be none or member`);
  const rulesNode = root.get("rules", true) as Node | undefined;
  const rules: MappingRule[] = [];
  if (rulesNode !== undefined && !isSeq(rulesNode)) reader.problem(rulesNode, `"rules" must be a list`);
  else rulesNode?.items.forEach((item, i) => {
    const rule = readRule(reader, item as Node, i);
    if (rule) rules.push(rule);
  });
  const policy = readPolicy(reader, root.get("policy", true) as Node | undefined);
  const names = new Map<string, number>();
  for (const rule of rules) {
    if (names.has(rule.name)) reader.problems.push({ line: rule.line, message: `rule name "${rule.name}" is used twice (also line ${names.get(rule.name)})` });
    names.set(rule.name, rule.line);
  }
  if (reader.problems.length) throw new RulesDocumentError(reader.problems.sort((a, b) => a.line - b.line));
  return { rules, defaultRole: defaultRole.value === "member" ? "member" : "none", policy };
}

// A seeded, reproducible large tenant for the Graph fake: N users (some guests `#EXT#`, some disabled), M groups,
// K random direct user memberships, and nested groups including a cycle (Entra allows one; idsync must cope).
import { FakeTenant } from "./tenant-model.ts";
import { seededRandom } from "../seeded-random.ts";

export interface TenantShape {
  seed: number;
  users: number;
  groups: number;
  /** Random distinct user→group memberships (capped at users × groups). */
  memberships: number;
  /** Share of users that are guests (`userType: Guest`, UPN with `#EXT#`); default 0.05. */
  guestShare?: number;
  /** Share of users with `accountEnabled: false`; default 0.03. */
  disabledShare?: number;
}

/** What the generator built, for assertions: the nested groups (a → b → c → a) among them. */
export interface GeneratedTenant {
  tenant: FakeTenant;
  userIds: string[];
  groupIds: string[];
  /** [group, member group] edges; the first three form the cycle. */
  nestedEdges: Array<[string, string]>;
}

const prng = seededRandom;

function uuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

const GIVEN = ["Alice", "Bob", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jun"];
const FAMILY = ["Anders", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ito", "Jansen"];
const DEPARTMENTS = ["Engineering", "Sales", "Finance", "Support", "Legal", null];

export function generateTenant(shape: TenantShape): GeneratedTenant {
  const random = prng(shape.seed);
  const pickOf = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const tenant = new FakeTenant(uuid(random));
  const userIds: string[] = [];
  for (let i = 0; i < shape.users; i += 1) {
    const givenName = pickOf(GIVEN);
    const surname = pickOf(FAMILY);
    const guest = random() < (shape.guestShare ?? 0.05);
    const local = `${givenName.toLowerCase()}.${surname.toLowerCase()}${i}`;
    const user = tenant.addUser({
      id: uuid(random), givenName, surname, displayName: `${givenName} ${surname}`,
      userPrincipalName: guest ? `${local}_gmail.com#EXT#@${tenant.domain}` : `${local}@${tenant.domain}`,
      mail: guest ? `${local}@gmail.com` : `${local}@contoso.com`,
      userType: guest ? "Guest" : "Member",
      accountEnabled: random() >= (shape.disabledShare ?? 0.03),
      department: guest ? null : pickOf(DEPARTMENTS),
      employeeId: guest ? null : String(100000 + i),
    });
    userIds.push(user.id);
  }
  const groupIds: string[] = [];
  for (let j = 0; j < shape.groups; j += 1) {
    const mailEnabled = random() < 0.3;
    const group = tenant.addGroup({ id: uuid(random), displayName: `group-${j}`, description: `Generated group ${j}`,
      mail: mailEnabled ? `group-${j}@contoso.com` : null, groupTypes: mailEnabled ? ["Unified"] : [] });
    groupIds.push(group.id);
  }
  const target = Math.min(shape.memberships, shape.users * shape.groups);
  let made = 0;
  while (made < target) {
    const g = pickOf(groupIds);
    const u = pickOf(userIds);
    if (tenant.groups.get(g)!.members.has(u)) continue;
    tenant.addMember(g, u);
    made += 1;
  }
  const nestedEdges: Array<[string, string]> = [];
  if (groupIds.length >= 3) {
    const [a, b, c] = groupIds as [string, string, string];
    nestedEdges.push([a, b], [b, c], [c, a]);
    for (let n = 0; n < Math.floor(groupIds.length / 10); n += 1) {
      const parent = pickOf(groupIds);
      const child = pickOf(groupIds);
      if (parent !== child && !nestedEdges.some(([p, c]) => p === parent && c === child)) nestedEdges.push([parent, child]);
    }
    for (const [parent, child] of nestedEdges) tenant.addMember(parent, child);
  }
  return { tenant, userIds, groupIds, nestedEdges };
}

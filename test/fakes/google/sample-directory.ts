// A large, deterministic Workspace for tests and demos: N users (some suspended, archived or
// deleted), M groups, K direct user memberships, plus the awkward rows a real directory has: nested
// groups with a cycle, an external member without status, a CUSTOMER ("everyone") member.
import { emptyDirectory, type FakeDirectory, type FakeUser } from "./fake-directory.ts";
import { seededRandom } from "../seeded-random.ts";

export interface SampleDirectoryOptions {
  readonly users: number;
  readonly groups: number;
  /** Direct USER memberships, spread over the groups. */
  readonly memberships: number;
  readonly seed?: number;
  readonly customerId?: string;
  readonly domain?: string;
}

export const SAMPLE_ADMIN = "admin";
export const EXTERNAL_MEMBER = { id: "110011001100110011001", email: "contractor@gmail.com" } as const;

const GIVEN = ["Alice", "Bob", "Chen", "Dana", "Emeka", "Farah", "Gil", "Hana", "Ivo", "Jun", "Kaia", "Luis"];
const FAMILY = ["Anders", "Brown", "Costa", "Dube", "Eriksen", "Fujita", "Garcia", "Haddad", "Ito", "Jansen"];
const DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "People"];

const random = seededRandom;

export function sampleUserId(i: number): string {
  return (10n ** 20n + BigInt(i) * 7919n).toString();
}

export function sampleGroupId(j: number): string {
  return `0${(36 ** 10 + j * 104729).toString(36)}`.slice(0, 15).padEnd(15, "0");
}

/**
 * User 0 is the admin (`admin@domain`); every 31st user is suspended, every 53rd archived, every
 * 47th deleted. Groups 0 → 1 → 2 → 0 nest in a cycle and group 3 sits in group 0; group 0 holds the
 * external member; the last group holds the CUSTOMER member.
 */
export function buildSampleDirectory(options: SampleDirectoryOptions): FakeDirectory {
  const next = random(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const dir = emptyDirectory(options.customerId, options.domain);
  for (let i = 0; i < options.users; i += 1) {
    const user: FakeUser = {
      id: sampleUserId(i),
      primaryEmail: i === 0 ? `${SAMPLE_ADMIN}@${dir.domain}` : `user${i}@${dir.domain}`,
      givenName: pick(GIVEN),
      familyName: pick(FAMILY),
      isAdmin: i === 0,
      department: pick(DEPARTMENTS),
      employeeId: `E${String(i).padStart(6, "0")}`,
      orgUnitPath: "/",
    };
    if (i > 0 && i % 31 === 0) user.suspended = true;
    if (i > 0 && i % 53 === 0) user.archived = true;
    if (i > 0 && i % 47 === 0) user.deletionTime = "2026-11-10T12:00:00.000Z";
    dir.users.push(user);
  }
  for (let j = 0; j < options.groups; j += 1) {
    dir.groups.push({ id: sampleGroupId(j), email: `group${j}@${dir.domain}`, name: `Group ${j}`, aliases: [`g${j}@${dir.domain}`] });
    dir.members.set(sampleGroupId(j), []);
  }
  const live = dir.users.filter((u) => !u.deletionTime);
  const seen = new Set<string>();
  let placed = 0;
  for (let attempts = 0; placed < options.memberships && attempts < options.memberships * 20 && dir.groups.length > 0 && live.length > 0; attempts += 1) {
    const group = pick(dir.groups), user = pick(live);
    const key = `${group.id}|${user.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    dir.members.get(group.id)!.push({ id: user.id, type: "USER", role: placed % 50 === 0 ? "OWNER" : "MEMBER" });
    placed += 1;
  }
  const nest = (parent: number, child: number) => dir.members.get(sampleGroupId(parent))?.push({ id: sampleGroupId(child), type: "GROUP" });
  if (options.groups >= 3) {
    nest(0, 1);
    nest(1, 2);
    nest(2, 0);
  }
  if (options.groups >= 4) nest(0, 3);
  if (options.groups >= 1) {
    dir.members.get(sampleGroupId(0))!.push({ id: EXTERNAL_MEMBER.id, type: "USER", email: EXTERNAL_MEMBER.email });
    dir.members.get(sampleGroupId(options.groups - 1))!.push({ id: dir.customerId, type: "CUSTOMER" });
  }
  return dir;
}

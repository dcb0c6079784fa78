// Where the planner means a person to end up. Its own file so that the planner (plan-changes.ts) and
// the ownership rules (ownership.ts) both import it one way, and neither imports the other back.
import type { DesiredPerson } from "../mapping/desired-state.ts";
import type { Role } from "../mapping/mapping-rules.ts";

/** Where a person should end up; `userKey` is an app user id or a `new:` key. */
export interface Target {
  readonly userKey: string;
  readonly person: DesiredPerson;
  role: Role | null;
}

// Operator commands for the reconciler: rules, plan, reconcile, runs, members, review, audit, keys.
import fs from "node:fs";
import { CliError } from "./admin-client.ts";
import type { CommandInput } from "./commands.ts";
import { printJson, printTable } from "./output.ts";
import { parseRulesDocument, RulesDocumentError } from "../mapping/rules-document.ts";

const json = (input: CommandInput) => input.values.json === true;
const account = (input: CommandInput) => {
  const slug = input.values.account;
  if (typeof slug !== "string" || !slug) throw new CliError("--account is required", 2);
  return encodeURIComponent(slug);
};
const readFile = (input: CommandInput, usage: string) => {
  const file = input.positionals[0];
  if (!file) throw new CliError(usage, 2);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
};

type Rows = Array<Record<string, unknown>>;
type Warning = { line: number; rule: string; message: string };
type BrakeAnswer = { message: string | null; heldRunId: string | null; verdict: string | null; kept: number };
type RunAnswer = { runId: string | null; status: string; applied: number; withheld: number; brake?: BrakeAnswer } & Partial<BrakeAnswer>;

const printWarnings = (warnings: readonly Warning[]) => {
  for (const w of warnings) process.stdout.write(`warning: rule ${w.rule} (line ${w.line}): ${w.message}\n`);
};

/** One line on a run: its status, what it applied, and what the brake holds (with the numbers why). */
function runLine(run: RunAnswer): string {
  const heldIn = run.heldRunId ?? run.runId;
  const hint = run.message?.includes("idsync runs approve") ? "" : ` (idsync runs approve|reject ${heldIn})`;
  const held = run.withheld ? `; ${run.withheld} removal(s) wait for approval: ${run.message ?? `in run ${heldIn}`}${hint}` : "";
  const kept = run.kept ? `; ${run.kept} removal(s) kept by an operator's decision` : "";
  return `run ${run.runId ?? "-"}: ${run.status}, ${run.applied} applied${held}${kept}`;
}

const minutes = (from: string, to: string) => {
  const ms = Date.parse(to) - Date.parse(from);
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
};

const runId = (input: CommandInput, verb: string) => {
  const id = input.positionals[0];
  if (!id) throw new CliError(`usage: idsync runs ${verb} <run id> [--email <person>]`, 2);
  return encodeURIComponent(id);
};
/** Where a run stands after a decision: still waiting for the rest, or closed with nothing left to decide. */
const decidedLine = (runId: unknown, status: unknown) => (status === "held" || status === "superseded"
  ? `run ${runId} still holds other removals (${status})` : `run ${runId} has nothing left to decide (${status})`);
const decisionBody = (input: CommandInput) => (typeof input.values.email === "string" ? { email: input.values.email } : {});

export const reconcileCommands: Record<string, (input: CommandInput) => Promise<void>> = {
  // validates locally: no server needed, nothing stored
  async "rules check"(input) {
    const text = readFile(input, "usage: idsync rules check <file>");
    try {
      const rules = parseRulesDocument(text);
      if (json(input)) return printJson({ valid: true, rules: rules.rules.length, policy: rules.policy });
      process.stdout.write(`valid: ${rules.rules.length} rule(s), default ${rules.defaultRole}\n`);
    } catch (error) {
      if (!(error instanceof RulesDocumentError)) throw error;
      if (json(input)) printJson({ valid: false, problems: error.problems });
      else for (const p of error.problems) process.stderr.write(`line ${p.line}: ${p.message}\n`);
      throw new CliError(`${error.problems.length} problem(s) in ${input.positionals[0]}`);
    }
  },
  async "rules set"(input) {
    const text = readFile(input, "usage: idsync rules set --account <slug> <file>");
    const saved = await input.client.request<{ version: number; rules: number; warnings: Warning[]; run: RunAnswer & { error?: string } }>("PUT", `/accounts/${account(input)}/rules`, { document: text });
    if (json(input)) return printJson(saved);
    process.stdout.write(`rules version ${saved.version} stored (${saved.rules} rules)\n`);
    printWarnings(saved.warnings);
    const run = saved.run;
    if (run.status === "failed") process.stdout.write(`the reconcile failed (${run.error}); the worker retries it\n`);
    else if (run.status === "nothing-to-do") process.stdout.write("reconciled: nothing to change\n");
    else process.stdout.write(`${runLine(run)}\n`);
  },
  async "rules get"(input) {
    const stored = await input.client.request<{ document: string; version: number }>("GET", `/accounts/${account(input)}/rules`);
    if (json(input)) return printJson(stored);
    process.stdout.write(stored.document.endsWith("\n") ? stored.document : `${stored.document}\n`);
  },
  async plan(input) {
    const plan = await input.client.request<{ rows: Rows; manualMembers: string[]; warnings: Warning[]; brake: BrakeAnswer }>("GET", `/accounts/${account(input)}/plan`);
    if (json(input)) return printJson(plan);
    if (plan.rows.length === 0) process.stdout.write("nothing to change\n");
    else printTable(plan.rows.map((r) => ({ ...r, brake: r.brake ?? "" })), ["action", "who", "what", "why", "brake"]);
    if (plan.brake.message) process.stdout.write(`removal brake: ${plan.brake.message}\n`);
    printWarnings(plan.warnings);
    if (plan.manualMembers.length) process.stdout.write(`manual members (not managed, left alone): ${plan.manualMembers.join(", ")}\n`);
  },
  async reconcile(input) {
    const result = await input.client.request<RunAnswer & { rows: Rows }>("POST", `/accounts/${account(input)}/reconcile`);
    if (json(input)) return printJson(result);
    if (result.rows.length) printTable(result.rows.map((r) => ({ ...r, brake: r.brake ?? "" })), ["action", "who", "what", "why", "brake"]);
    process.stdout.write(`${runLine({ ...result, ...result.brake })}\n`);
  },
  async "runs list"(input) {
    const { runs } = await input.client.request<{ runs: Rows }>("GET", `/accounts/${account(input)}/runs`);
    if (json(input)) return printJson(runs);
    // a held run's own duration, and apart from it how long it waited for (or has waited for) an operator
    const waited = (r: Record<string, unknown>) => (r.held_at ? `${minutes(r.held_at as string, (r.decided_at as string | null) ?? new Date().toISOString())}${r.decided_at ? "" : " so far"}` : "");
    printTable(runs.map((r) => ({ ...r, held_for: waited(r), decided_by: r.decided_by ?? "", counts: JSON.stringify(r.counts), error: r.error ?? "" })),
      ["id", "kind", "status", "trigger", "started_at", "api_calls", "duration_ms", "held_for", "decided_by", "counts", "error"]);
  },
  async "runs approve"(input) {
    const result = await input.client.request<Record<string, unknown>>("POST", `/runs/${runId(input, "approve")}/approve`, decisionBody(input));
    if (json(input)) return printJson(result);
    process.stdout.write(`approved${input.values.email ? ` for ${input.values.email}` : ""}: ${result.approved} removal(s) run ${result.approvedRunId} showed applied by run ${result.runId}; ${decidedLine(result.approvedRunId, result.approvedRunStatus)}`
      + `${result.stillHeld ? `; other removals still wait for approval in run ${result.stillHeld}` : ""}\n`);
  },
  async "runs reject"(input) {
    const result = await input.client.request<Record<string, unknown>>("POST", `/runs/${runId(input, "reject")}/reject`, decisionBody(input));
    if (json(input)) return printJson(result);
    process.stdout.write(`rejected${input.values.email ? ` for ${input.values.email}` : ""}: nothing was removed; ${result.people} person(s) keep their access by an operator's decision `
      + `until their IdP facts change (idsync runs lift to undo); ${decidedLine(result.runId, result.status)}\n`);
  },
  async "runs kept"(input) {
    const { kept } = await input.client.request<{ kept: Rows }>("GET", `/accounts/${account(input)}/kept`);
    if (json(input)) return printJson(kept);
    if (kept.length === 0) return void process.stdout.write("nobody keeps access by an operator's decision\n");
    printTable(kept.map((k) => ({ ...k, removals: (k.keys as string[]).length })), ["email", "run_id", "removals", "rejected_at", "rejected_by"]);
  },
  async "runs lift"(input) {
    const result = await input.client.request<{ lifted: number }>("POST", `/accounts/${account(input)}/kept/lift`, decisionBody(input));
    if (json(input)) return printJson(result);
    process.stdout.write(`${result.lifted} rejection(s) lifted; the next reconcile plans those removals again, through the brake\n`);
  },
  async members(input) {
    const { members } = await input.client.request<{ members: Rows }>("GET", `/accounts/${account(input)}/members`);
    if (json(input)) return printJson(members);
    printTable(members.map((m) => ({ ...m, status: m.kept ? `${m.status}, ${m.kept}` : m.status, grants: (m.grants as Array<{ domain: string; access: string }>).map((g) => `${g.domain}:${g.access}`) })), ["email", "user_id", "role", "status", "managed_by", "rule", "grants"]);
  },
  async review(input) {
    const { review } = await input.client.request<{ review: Rows }>("GET", `/accounts/${account(input)}/review`);
    if (json(input)) return printJson(review);
    // a person with no access left (suspended, say) still gets a row: a review lists everyone
    const access = (p: Record<string, unknown>) => ((p.access as Rows).length ? (p.access as Rows) : [{ domain: "-", access: "-", rule: p.rule, since: p.member_since }]);
    printTable(review.flatMap((p) => access(p).map((a) => ({ email: p.email, user_id: p.user_id, role: p.role, status: p.status, source: p.source, domain: a.domain, access: a.access, rule: a.rule, since: a.since }))),
      ["email", "user_id", "role", "status", "domain", "access", "rule", "source", "since"]);
  },
  async audit(input) {
    const query = new URLSearchParams(Object.entries({ action: input.values.action, run: input.values.run, email: input.values.email })
      .filter((e): e is [string, string] => typeof e[1] === "string"));
    const { audit } = await input.client.request<{ audit: Rows }>("GET", `/accounts/${account(input)}/audit${query.size ? `?${query}` : ""}`);
    if (json(input)) return printJson(audit);
    // the target's email or name first, its id beside it, so a row can be followed to `members` and `review`
    printTable(audit.map((a) => ({ ...a, run: a.run_id, target: a.target_name ?? a.target_type })),
      ["id", "occurred_at", "run", "actor", "action", "target", "target_id", "rule", "change"]);
  },
  async "keys create"(input) {
    const email = input.values.email;
    if (typeof email !== "string") throw new CliError("--email is required", 2);
    const key = await input.client.request<Record<string, unknown>>("POST", `/accounts/${account(input)}/keys`, {
      email, name: input.values.name ?? "api key", domains: input.values.domain, organizationWide: input.values.org === true });
    if (json(input)) return printJson(key);
    process.stdout.write(`key ${key.id} (${key.scope}) created; its secret, shown once: ${key.key}\n`);
  },
  async "sessions create"(input) {
    const email = input.values.email;
    if (typeof email !== "string") throw new CliError("--email is required", 2);
    const session = await input.client.request<{ id: string }>("POST", `/accounts/${account(input)}/sessions`, { email });
    if (json(input)) return printJson(session);
    process.stdout.write(`session ${session.id} created for ${email}\n`);
  },
  async "invitations create"(input) {
    const email = input.values.email;
    if (typeof email !== "string") throw new CliError("--email is required", 2);
    const invitation = await input.client.request<{ id: string }>("POST", `/accounts/${account(input)}/invitations`, {
      email, role: input.values.role ?? "member", invitedBy: input.values["invited-by"] });
    if (json(input)) return printJson(invitation);
    process.stdout.write(`invitation ${invitation.id} to ${email} pending\n`);
  },
  async "keys list"(input) {
    const { keys } = await input.client.request<{ keys: Rows }>("GET", `/accounts/${account(input)}/keys`);
    if (json(input)) return printJson(keys);
    printTable(keys, ["id", "created_by", "name", "scope", "domains", "last_used_at", "revoked_at"]);
  },
};

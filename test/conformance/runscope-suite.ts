// Runs a Runscope "API Monitoring Test" JSON (e.g. Okta's SCIM 2.0 SPEC test) against a server.
// Pure logic only: no process I/O. Comparison semantics follow thomaspoignant/api-scenario.

export interface RunscopeAssertion { source: string; property?: string | null; comparison: string; value?: string | null }
export interface RunscopeVariable { source: string; property?: string | null; name: string | null }
export interface RunscopeStep {
  step_type: string;
  skipped?: boolean;
  note?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string[] | string>;
  body?: string | null;
  assertions?: RunscopeAssertion[];
  variables?: RunscopeVariable[];
  duration?: number;
}
export interface RunscopeSuite { name?: string; steps: RunscopeStep[] }

export interface AssertionFailure {
  step: number; // 1-based ordinal among request steps
  note: string;
  source: string;
  property: string;
  comparison: string;
  expected: string | null;
  actual: unknown;
}
export interface StepReport {
  step: number;
  note: string;
  method: string;
  url: string; // the URL actually sent (substituted and percent-encoded)
  status: number | null; // null when the request failed at the network level
  passed: number;
  failed: number;
  error?: string;
}
export interface SuiteResult { passed: number; failed: number; failures: AssertionFailure[]; steps: StepReport[] }

/** Replaces every `{{name}}` whose name is in `vars`; unknown placeholders are left untouched. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? (vars[name] as string) : whole);
}

/**
 * Percent-encodes (UTF-8) every character not legal in a URL — spaces, `"`, `'`, `<`, `>`, `{`, `}`, `|`,
 * non-ASCII, and `#` inside the query — while keeping existing `%XX` escapes, so encoding is idempotent.
 */
export function encodeUrl(url: string): string {
  const q = url.indexOf("?");
  const enc = (part: string, inQuery: boolean) =>
    part.replace(/%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&()*+,;=:@/?%]/gu, (ch) =>
      !inQuery && "#[]".includes(ch) ? ch : encodeURIComponent(ch).replace(/'/g, "%27"));
  return q < 0 ? enc(url, false) : enc(url.slice(0, q), false) + enc(url.slice(q), true);
}

/** Reads a Runscope property path (`a.b`, `Resources[0].emails[0].value`, `[1]`); undefined when absent. */
export function readProperty(root: unknown, path: string | null | undefined): unknown {
  if (path == null || path.trim() === "") return root;
  let cur: unknown = root;
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== "object") return undefined;
    const key = m[2] !== undefined ? Number(m[2]) : (m[1] as string);
    if (Array.isArray(cur)) {
      const idx = typeof key === "number" ? key : /^\d+$/.test(key) ? Number(key) : NaN;
      cur = Number.isNaN(idx) ? undefined : cur[idx];
    } else {
      cur = Object.prototype.hasOwnProperty.call(cur, key) ? (cur as Record<string, unknown>)[String(key)] : undefined;
    }
  }
  return cur;
}

const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean";
const asNumber = (v: unknown): number =>
  typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
const scalarEquals = (actual: unknown, expected: string): boolean =>
  typeof actual === "boolean" ? String(actual) === expected.trim().toLowerCase()
    : isScalar(actual) && String(actual) === expected;
const isEmpty = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === "string" && v.trim() === "") ||
  (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);

/**
 * Evaluates one Runscope comparison. `equal` compares as strings ("401" equals 401, "true" equals true);
 * `not_empty` fails only for null/undefined/blank string/[]/{} (false and 0 are not empty); `has_value` and
 * `contains` on an array look for an element equal as a string; `contains` on a string is substring.
 * A missing property (undefined) fails everything except `empty`/`is_null`. Unknown comparisons fail.
 */
export function compare(comparison: string, actual: unknown, expected: string | null | undefined): boolean {
  const exp = expected ?? "";
  const num = asNumber(actual);
  const expNum = asNumber(exp);
  const ordered = (op: (a: number, b: number) => boolean) =>
    !Number.isNaN(num) && !Number.isNaN(expNum) ? op(num, expNum)
      : typeof actual === "string" && op(actual < exp ? -1 : actual > exp ? 1 : 0, 0);
  switch (comparison) {
    case "equal": return scalarEquals(actual, exp);
    case "not_equal": return isScalar(actual) && !scalarEquals(actual, exp);
    case "equal_number": return typeof actual !== "boolean" && !Number.isNaN(num) && num === expNum;
    case "is_a_number": return typeof actual !== "boolean" && Number.isFinite(num);
    case "is_less_than": return ordered((a, b) => a < b);
    case "is_less_than_or_equal": case "is_less_than_or_equals": return ordered((a, b) => a <= b);
    case "is_greater_than": return ordered((a, b) => a > b);
    case "is_greater_than_or_equal": return ordered((a, b) => a >= b);
    case "contains": case "does_not_contain": case "does_not_contains": {
      const has = typeof actual === "string" ? actual.includes(exp)
        : Array.isArray(actual) ? actual.some((el) => scalarEquals(el, exp)) : undefined;
      return has === undefined ? false : comparison === "contains" ? has : !has;
    }
    case "not_empty": return !isEmpty(actual);
    case "empty": return isEmpty(actual);
    case "is_null": return actual === null || actual === undefined;
    case "has_value": {
      const items = Array.isArray(actual) ? actual
        : actual !== null && typeof actual === "object" ? Object.values(actual) : [];
      return items.some((el) => scalarEquals(el, exp));
    }
    case "has_key": return actual !== null && typeof actual === "object" && !Array.isArray(actual) &&
      Object.prototype.hasOwnProperty.call(actual, exp);
    default: return false;
  }
}

/** Variables set by Okta's "initial script", plus the user-supplied SCIMBaseURL and auth. */
export function initialVariables(baseUrl: string, auth: string, random: () => number = Math.random): Record<string, string> {
  const pick = (chars: string, n: number) =>
    Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)] ?? chars[0]).join("");
  const digits = "0123456789", lower = "abcdefghijklmnopqrstuvwxyz";
  const randomGivenName = "Runscope" + pick(digits, 3);
  const randomFamilyName = pick(lower.toUpperCase(), 1) + pick(lower, 8) + pick(digits, 3);
  const randomEmail = `${randomGivenName}${randomFamilyName}@atko.com`;
  return {
    SCIMBaseURL: baseUrl.replace(/\/+$/, ""), auth,
    randomGivenName, randomFamilyName, randomEmail, randomUsername: randomEmail,
    randomUsernameCaps: randomEmail.toUpperCase(),
    InvalidUserEmail: "abcdefgh@atko.com",
    UserIdThatDoesNotExist: "010101001010101011001010101011",
  };
}

const show = (v: unknown): string => (v === undefined ? "undefined" : JSON.stringify(v) ?? String(v));

/** One human-readable line describing a failed assertion (step, property, comparison, expected, actual). */
export function formatFailure(f: AssertionFailure): string {
  const exp = f.expected === null ? "" : ` expected ${JSON.stringify(f.expected)},`;
  const act = show(f.actual);
  return `  FAIL step ${f.step} ${f.property || f.source} ${f.comparison}:${exp} actual ${act.length > 300 ? act.slice(0, 300) + "…" : act}`;
}

interface Outcome { status: number; timeMs: number; json: unknown; headers: Headers }

/**
 * Runs every non-skipped request step in order (pause steps are skipped, Runscope scripts ignored).
 * Each assertion counts as exactly one pass or one fail; a network error fails all of that step's
 * assertions with the error as `actual`, and the suite continues. Never throws for server behaviour.
 * `variables` are a Runscope environment's initial variables (the CRUD test's `oktaOrgUrl`, `SCIMAuth`,
 * `okta_user_email`, …); they are set after Okta's initial-script ones, so they win.
 */
export async function runSuite(opts: {
  suite: RunscopeSuite; baseUrl: string; auth: string; variables?: Record<string, string>;
  fetchImpl?: typeof fetch; log?: (line: string) => void;
}): Promise<SuiteResult> {
  const doFetch = opts.fetchImpl ?? fetch;
  const log = opts.log ?? (() => {});
  const vars = { ...initialVariables(opts.baseUrl, opts.auth), ...opts.variables };
  const result: SuiteResult = { passed: 0, failed: 0, failures: [], steps: [] };
  let ordinal = 0;
  for (const step of opts.suite.steps) {
    if (step.step_type !== "request") continue;
    ordinal++;
    const method = (step.method ?? "GET").toUpperCase();
    const rawUrl = substitute(step.url ?? "", vars);
    const display = rawUrl.startsWith(vars.SCIMBaseURL as string) ? rawUrl.slice((vars.SCIMBaseURL as string).length) || "/" : rawUrl;
    if (step.skipped) { log(`step ${ordinal} ${method} ${display} skipped`); continue; }
    const url = encodeUrl(rawUrl);
    const note = step.note ?? "";
    const headers = new Headers();
    for (const [name, values] of Object.entries(step.headers ?? {}))
      for (const v of Array.isArray(values) ? values : [values]) headers.append(name, substitute(String(v), vars));
    const body = step.body && method !== "GET" && method !== "HEAD" ? substitute(step.body, vars) : undefined;

    let outcome: Outcome | undefined, error: string | undefined;
    const started = performance.now();
    try {
      const res = await doFetch(url, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try { json = text.trim() === "" ? undefined : JSON.parse(text); } catch { json = undefined; }
      outcome = { status: res.status, timeMs: performance.now() - started, json, headers: res.headers };
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      error = `network error: ${err.message}${err.cause?.message ? ` (${err.cause.message})` : ""}`;
    }

    const report: StepReport = { step: ordinal, note, method, url, status: outcome?.status ?? null, passed: 0, failed: 0 };
    if (error !== undefined) report.error = error;
    const stepFailures: AssertionFailure[] = [];
    for (const a of step.assertions ?? []) {
      const expected = a.value == null ? null : substitute(String(a.value), vars);
      let actual: unknown = error;
      if (outcome) {
        actual = a.source === "response_status" ? outcome.status
          : a.source === "response_time" ? Math.round(outcome.timeMs)
          : a.source === "response_json" ? readProperty(outcome.json, a.property)
          : a.source === "response_header" ? outcome.headers.get(a.property ?? "") ?? undefined
          : undefined;
      }
      if (outcome && compare(a.comparison, actual, expected)) { report.passed++; continue; }
      report.failed++;
      stepFailures.push({ step: ordinal, note, source: a.source, property: a.property ?? "", comparison: a.comparison, expected, actual });
    }
    if (outcome) for (const v of step.variables ?? []) {
      // Runscope exports an unfinished row of its variables editor as {name: null, property: ""}
      if (v.name === null || v.name === "") continue;
      const val = v.source === "response_status" ? outcome.status
        : v.source === "response_header" ? outcome.headers.get(v.property ?? "") ?? undefined
        : readProperty(outcome.json, v.property);
      if (val !== undefined && val !== null) vars[v.name] = typeof val === "object" ? JSON.stringify(val) : String(val);
    }
    result.passed += report.passed;
    result.failed += report.failed;
    result.failures.push(...stepFailures);
    result.steps.push(report);
    const total = report.passed + report.failed;
    log(`step ${ordinal} ${method} ${display} → ${report.status ?? error} (${report.passed}/${total})`);
    for (const f of stepFailures) log(formatFailure(f));
  }
  return result;
}

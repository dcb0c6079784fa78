// CLI: npx tsx test/conformance/runscope-runner.ts --suite <file> --url <SCIM base URL> --token <bearer token>
// (or --auth "<whole Authorization header value>"). Prints one line per step, one per failed assertion,
// and finally exactly "N passed, N failed". Exit 0 = all passed, 1 = failures, 2 = usage/suite errors.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { runSuite, type RunscopeSuite } from "./runscope-suite.ts";

const USAGE =
  'usage: runscope-runner --suite <runscope.json> --url <SCIM base URL> (--token <bearer token> | --auth "<Authorization header value>")';

function usageError(message?: string): never {
  console.error(message ? `error: ${message}. ${USAGE}` : USAGE);
  process.exit(2);
}

/** Parses argv into runner options; exits with code 2 and a usage line on anything invalid. */
function parseCli(argv: string[]): { suite: string; url: string; auth: string } {
  let values: { suite?: string; url?: string; token?: string; auth?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        suite: { type: "string" },
        url: { type: "string" },
        token: { type: "string" },
        auth: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usageError((e as Error).message);
  }
  if (values.help) usageError();
  if (!values.suite || !values.url) usageError("--suite and --url are required");
  if ((values.token === undefined) === (values.auth === undefined)) usageError("give exactly one of --token or --auth");
  try {
    new URL(values.url);
  } catch {
    usageError(`--url is not an absolute URL: ${values.url}`);
  }
  const auth = values.token !== undefined ? `Bearer ${values.token}` : (values.auth as string);
  return { suite: values.suite, url: values.url, auth };
}

/** Reads and minimally validates a Runscope suite file; exits with code 2 if it is unusable. */
async function loadSuite(path: string): Promise<RunscopeSuite> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    usageError(`cannot read suite ${path}: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || !Array.isArray((parsed as RunscopeSuite).steps)) {
    usageError(`suite ${path} has no "steps" array`);
  }
  return parsed as RunscopeSuite;
}

const cli = parseCli(process.argv.slice(2));
const suite = await loadSuite(cli.suite);
const result = await runSuite({ suite, baseUrl: cli.url, auth: cli.auth, log: (line) => console.log(line) });
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exitCode = result.failed === 0 ? 0 : 1;

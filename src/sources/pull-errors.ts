// One error type per failure a caller can act on. Any of them aborts a pull before planning: the
// snapshot is left as it was and nothing is removed.

/** The directory kept failing (5xx, 429, Google 403 usageLimits) after every retry: try again later. */
export class SourceUnavailableError extends Error {
  override readonly name = "SourceUnavailableError";
  constructor(message: string, readonly status: number | null, readonly calls: number) {
    super(message);
  }
}

/** The directory refused the request for a reason only an admin can fix (scope, delegation, secret). */
export class SourceConfigError extends Error {
  override readonly name = "SourceConfigError";
  constructor(message: string, readonly status: number | null, readonly fix: string) {
    super(`${message} (${fix})`);
  }
}

/** The answer was not whole: a broken page chain, a missing collection key, an object without an id. */
export class IncompletePullError extends Error {
  override readonly name = "IncompletePullError";
}

/** Graph forgot the delta state (410, syncStateNotFound, resyncRequired): run a full resync. */
export class DeltaResyncRequired extends Error {
  override readonly name = "DeltaResyncRequired";
}

/** The pull would shrink the directory more than the connection allows: held back, nothing written. */
export class SuspiciousDropError extends Error {
  override readonly name = "SuspiciousDropError";
}

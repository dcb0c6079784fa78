// The errors an operator's decision on a run can meet.

/** The run is not waiting for a decision (or not on the part asked for). */
export class RunNotHeldError extends Error {
  constructor(readonly runId: string, readonly status: string, message = `run ${runId} is ${status}, not held`) {
    super(message);
    this.name = "RunNotHeldError";
  }
}

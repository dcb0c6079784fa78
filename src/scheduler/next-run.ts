// When a schedule fires next (UTC), for the status page, /metrics and spreading a slot's jobs.
import cron from "node-cron";

export function nextRun(expression: string): Date | null {
  const task = cron.createTask(expression, () => undefined, { timezone: "UTC" });
  try {
    // node-cron 4 answers getNextRun only for a started task (null otherwise); it is destroyed
    // before its timer can fire
    task.start();
    return task.getNextRun();
  } finally {
    void task.destroy();
  }
}

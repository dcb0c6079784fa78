// When a schedule fires next (UTC), for people reading the status page.
import cron from "node-cron";

export function nextRun(expression: string): Date | null {
  const task = cron.createTask(expression, () => undefined, { timezone: "UTC" });
  try {
    return task.getNextRun();
  } finally {
    void task.destroy();
  }
}

// Time this process spent in garbage collection while some work ran, from V8's "gc" performance entries
// (each pause's duration, young and old generation alike; this thread's only). The reconcile bench reports it
// beside the plan: at a million users its heap is over a GiB, and how much of its time is collecting it is
// what says whether the growth is idsync's algorithms or its memory.
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

/**
 * A full collection, now. The reconcile bench runs one before each timed step, so that no step pays for
 * collecting the one before it (a server's full runs are minutes apart, and V8 collects an idle heap in
 * between); the pull bench measures memory after one.
 */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

export async function withGcTime<T>(work: () => Promise<T>): Promise<{ result: T; gcMs: number }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ["gc"] });
  try {
    const result = await work();
    for (const entry of observer.takeRecords()) gcMs += entry.duration;
    return { result, gcMs };
  } finally {
    observer.disconnect();
  }
}

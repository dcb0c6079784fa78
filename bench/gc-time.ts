// Time this process spent in garbage collection while some work ran, from V8's "gc" performance entries
// (each pause's duration, young and old generation alike). The reconcile bench reports it beside the plan
// and the no-op: at a million users their heap is ~7.5 GiB, and how much of their time is collecting it is
// what says whether the growth is idsync's algorithms or its memory.
import { PerformanceObserver } from "node:perf_hooks";

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

// Benchmark plumbing, measures nothing itself: the peaks of this process's memory over a stretch of work.

/** V8 heap in use plus external memory (Buffers): unlike RSS, which the allocator keeps once grown, comparable within one process. */
export const usedHeap = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** Samples RSS and usedHeap() every 50 ms (and at start and stop); stop() returns their peaks, in bytes. */
export function sampleMemory(): { stop(): { rss: number; heap: number } } {
  let rss = process.memoryUsage().rss;
  let heap = usedHeap();
  const sample = () => {
    rss = Math.max(rss, process.memoryUsage().rss);
    heap = Math.max(heap, usedHeap());
  };
  const timer = setInterval(sample, 50);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rss, heap };
    },
  };
}

// Types for the part of autocannon 8 (which ships none) that bench/workloads.ts uses.
declare module "autocannon" {
  interface Histogram {
    average: number; mean: number; stddev: number; min: number; max: number; total: number;
    p2_5: number; p50: number; p75: number; p90: number; p97_5: number; p99: number; p99_9: number;
  }
  interface RawRequest { method: string; path: string; headers: Record<string, string>; body?: string | Buffer }
  interface RequestSpec {
    method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer;
    setupRequest?: (request: RawRequest, context: Record<string, unknown>) => RawRequest | undefined;
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }
  interface Options {
    url: string; connections?: number; duration?: number; timeout?: number; pipelining?: number;
    method?: string; headers?: Record<string, string>; body?: string | Buffer; requests?: RequestSpec[]; title?: string;
  }
  interface Result {
    title?: string; url: string; duration: number; errors: number; timeouts: number; non2xx: number; mismatches: number;
    requests: Histogram & { sent: number }; latency: Histogram; throughput: Histogram;
    statusCodeStats: Record<string, { count: number }>;
    "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number;
  }
  interface Instance extends PromiseLike<Result> { stop(): void }
  function autocannon(options: Options): Instance;
  export default autocannon;
  export type { Options, Result, RequestSpec, RawRequest, Instance };
}

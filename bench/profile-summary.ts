// Reads a V8 .cpuprofile taken of idsync during one measured run (BENCH_CPU_PROF=1) and says where
// its CPU went: self time by function and by area (an npm package, a src/ directory, node internals,
// GC), as shares of the busy (non-idle) samples. Self time is blunt, but enough to see whether the
// cost is in idsync's code, in a dependency (scimmy, knex, pino, express) or in the runtime.
import { readFileSync } from "node:fs";

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number }

export interface ProfileSummary {
  busyShare: number;
  topFunctions: Array<{ name: string; share: number }>;
  topAreas: Array<{ name: string; share: number }>;
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native/v8)";
  if (url.startsWith("node:")) return "node internals";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url);
  if (src) return src[1]!;
  return url.replace(/^file:\/\//, "");
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "").replace(/^.*\/(src|bin)\//, "$1/");
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let idle = 0;
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id)!;
    if (callFrame.functionName === "(idle)") {
      idle += count;
      continue;
    }
    const name = `${callFrame.functionName || "(anonymous)"} ${callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : ""}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + count);
    const a = areaOf(callFrame.url, callFrame.functionName);
    area.set(a, (area.get(a) ?? 0) + count);
  }
  const busy = profile.samples.length - idle;
  const ranked = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]).slice(0, top).map(([name, n]) => ({ name, share: n / busy }));
  return { busyShare: busy / profile.samples.length, topFunctions: ranked(fn), topAreas: ranked(area) };
}

export function renderProfile(label: string, summary: ProfileSummary): string {
  const pct = (s: number) => `${(s * 100).toFixed(1).padStart(5)}%`;
  return [
    `idsync CPU profile, ${label}: busy ${pct(summary.busyShare)} of samples; self time as a share of busy time`,
    "  by area:", ...summary.topAreas.map((a) => `    ${pct(a.share)}  ${a.name}`),
    "  by function:", ...summary.topFunctions.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ].join("\n");
}

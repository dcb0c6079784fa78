// An IPv4 address of this machine that is not loopback, for tests that must reach the server the way a
// browser on another host would (browsers treat localhost as secure, so a loopback test cannot show
// what a LAN address or a container IP sees). The machine's own interface address when it has one;
// otherwise a veth pair made for the test, holding 198.18.0.1 (RFC 2544's benchmarking range). An
// address of this machine is routed through its local table, so the traffic never leaves the machine.
import { execFileSync } from "node:child_process";
import os from "node:os";

export interface NonLoopbackAddress {
  readonly address: string;
  /** Removes the interface made for the test, if one was. */
  release(): void;
}

const BENCHMARK_ADDRESS = "198.18.0.1";

function interfaceAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

export function nonLoopbackAddress(): NonLoopbackAddress {
  const existing = interfaceAddress();
  if (existing) return { address: existing, release: () => undefined };
  const name = `idsync${process.pid % 100_000}`; // interface names are at most 15 characters
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    ip("link", "add", name, "type", "veth", "peer", "name", `${name}p`);
    ip("addr", "add", `${BENCHMARK_ADDRESS}/32`, "dev", name);
    ip("link", "set", name, "up");
  } catch (error) {
    try { ip("link", "del", name); } catch { /* it was never made */ }
    throw new Error(`this machine has no non-loopback IPv4 address and one could not be made with ip(8) (needs CAP_NET_ADMIN): ${(error as Error).message}`);
  }
  return { address: BENCHMARK_ADDRESS, release: () => ip("link", "del", name) };
}

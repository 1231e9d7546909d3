// Build sandbox, mode "bwrap", network "registry": slirp4netns for the build, fenced off the host and its LAN.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { deadline, duplexAt, type Helpers, killPid } from "./proc.ts";

export interface Network {
  stop(): Promise<void>;
}

// slirp4netns runs as root (it must open /dev/net/tun and enter a namespace owned by the sandbox's user
// namespace), then --enable-sandbox drops its capabilities and pivots it into an empty root, under seccomp.
// slirp4netns connects out from the host, so without these a build could reach the host's services on its
// other addresses (anything listening on 0.0.0.0), its LAN neighbours and the cloud metadata endpoint.
// The host's loopback is covered by --disable-host-loopback; IPv6 is not forwarded at all.
export function unreachablePrefixes(): string[] {
  const prefixes = new Set(["169.254.0.0/16"]);
  for (const address of Object.values(os.networkInterfaces()).flat()) {
    if (address === undefined || address.family !== "IPv4" || address.internal) continue;
    prefixes.add(`${address.address}/32`);
    const bits = Number(address.cidr?.split("/")[1] ?? "32");
    prefixes.add(`${ipv4Network(address.address, bits)}/${bits}`);
  }
  return [...prefixes];
}

function ipv4Network(address: string, bits: number): string {
  const value = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const network = bits === 0 ? 0 : value - (value % 2 ** (32 - bits));
  return [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
}

/** Attaches slirp4netns to the network namespace `memberPid` is in; resolves once the network is up. */
export async function startNetwork(
  helpers: Helpers,
  memberPid: number,
  sandboxExited: Promise<unknown>,
): Promise<Network> {
  const netns = fs.openSync(`/proc/${memberPid}/ns/net`, "r");
  const slirp = spawn(
    helpers.tool("slirp4netns"),
    [
      ...["--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp"],
      // --exit-fd: our end of that pipe closes if we die, and slirp4netns exits rather than linger.
      ...["--ready-fd=3", "--exit-fd=5", "--netns-type=path", "/proc/self/fd/4", "tap0"],
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", netns, "pipe"], env: helpers.env, cwd: "/" },
  );
  fs.closeSync(netns);
  // Held (not left to the garbage collector) until stop: closing it is what tells slirp4netns to exit.
  const exitPipe = duplexAt(slirp, 5);
  const exited = new Promise<void>((resolve) => {
    if (slirp.exitCode !== null || slirp.signalCode !== null) resolve();
    slirp.on("exit", () => resolve());
  });
  const stop = async () => {
    killPid(slirp.pid);
    await exited;
    exitPipe.destroy();
  };
  let stderr = "";
  slirp.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  const ready = new Promise<string | null>((resolve) => {
    const fd = duplexAt(slirp, 3);
    fd.on("data", () => resolve(null));
    fd.on("error", (error) => resolve(`ready pipe failed: ${error.message}`));
  });
  const failure = await Promise.race([
    ready,
    exited.then(() => `slirp4netns exited (${slirp.exitCode ?? slirp.signalCode})`),
    sandboxExited.then(() => "the sandbox exited first"),
    deadline(10_000).then(() => "slirp4netns was not ready within 10 s"),
  ]);
  if (failure !== null) {
    await stop();
    throw new Error(`build sandbox network setup failed: ${failure}: ${stderr.trim()}`);
  }
  return { stop };
}

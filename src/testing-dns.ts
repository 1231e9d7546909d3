// Test support: a real DNS server (pebble-challtestsrv, built by scripts/services.sh pebble) whose records a
// test sets over its management API, for domain verification and ACME DNS-01 tests.

import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface TestDns {
  /** ip:port to put in DNS_RESOLVERS (UDP and TCP). */
  resolver: string;
  /** The management API (pebble-challtestsrv's /set-txt, /clear-txt, ...). */
  managementUrl: string;
  setTxt(name: string, value: string): Promise<void>;
  clearTxt(name: string): Promise<void>;
  stop(): void;
}

/** The directory holding pebble and pebble-challtestsrv: MINIVERCEL_TEST_PEBBLE_BIN, else services.sh builds them. */
export function pebbleBinDir(): string {
  const fromEnv = process.env.MINIVERCEL_TEST_PEBBLE_BIN;
  if (fromEnv) return fromEnv;
  const script = join(import.meta.dir, "..", "scripts", "services.sh");
  const result = spawnSync("bash", [script, "pebble"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = result.stdout.trim().split("\n").pop();
  if (result.status !== 0 || !dir) throw new Error("scripts/services.sh pebble failed");
  process.env.MINIVERCEL_TEST_PEBBLE_BIN = dir;
  return dir;
}

/** A port free for TCP right now (the OS picks it); good enough for test servers started at once. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`);

export async function startTestDns(): Promise<TestDns> {
  const dnsPort = freePort();
  const managementPort = freePort();
  const child = Bun.spawn(
    [
      join(pebbleBinDir(), "pebble-challtestsrv"),
      "-dnsserver",
      `127.0.0.1:${dnsPort}`,
      "-management",
      `127.0.0.1:${managementPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-doh",
      "",
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${managementUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`challtestsrv ${path}: ${response.status}`);
  };
  // Ready when the management API answers.
  for (let i = 0; ; i++) {
    try {
      await post("/clear-txt", { host: "ready.test." });
      break;
    } catch (error) {
      if (i > 100) throw error;
      await Bun.sleep(50);
    }
  }
  return {
    resolver: `127.0.0.1:${dnsPort}`,
    managementUrl,
    setTxt: (name, value) => post("/set-txt", { host: fqdn(name), value }),
    clearTxt: (name) => post("/clear-txt", { host: fqdn(name) }),
    stop: () => child.kill(),
  };
}

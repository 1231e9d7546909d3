// Test support: a real DNS server (pebble-challtestsrv, built by scripts/services.sh pebble) whose records a
// test sets over its management API, for domain verification and ACME DNS-01 tests.

import { join } from "node:path";
import { freePort, testService } from "./services.ts";

export interface TestDns {
  /** ip:port to put in DNS_RESOLVERS (UDP and TCP). */
  resolver: string;
  /** The management API (pebble-challtestsrv's /set-txt, /clear-txt, ...). */
  managementUrl: string;
  setTxt(name: string, value: string): Promise<void>;
  clearTxt(name: string): Promise<void>;
  /** The address every name without an A record of its own gets (127.0.0.1 at start); "" for none. */
  setDefaultIPv4(ip: string): Promise<void>;
  addA(name: string, addresses: string[]): Promise<void>;
  stop(): void;
}

const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`);

export async function startTestDns(): Promise<TestDns> {
  const dnsPort = freePort();
  const managementPort = freePort();
  const child = Bun.spawn(
    [
      join(testService("pebble"), "pebble-challtestsrv"),
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
    setDefaultIPv4: (ip) => post("/set-default-ipv4", { ip }),
    addA: (name, addresses) => post("/add-a", { host: fqdn(name), addresses }),
    stop: () => child.kill(),
  };
}

// Test support for automatic HTTPS: Pebble (Let's Encrypt's ACME test server) and pebble-challtestsrv (its DNS)
// per test file on free ports, and the test PostgreSQL. Binaries from MINIVERCEL_TEST_PEBBLE_BIN or services.sh.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "./deps.ts";
import { startTestDns } from "./dns.ts";
import { freePort, testService } from "./services.ts";

export { freePort };

export const testPostgresUrl = (): string => testService("postgres");

export interface Pebble {
  directoryUrl: string;
  /** pebble-challtestsrv's DNS server (ip:port): every name has A 127.0.0.1, plus the TXT records set here. */
  dnsServer: string;
  /** The CA of Pebble's own HTTPS listener (ACME_CA_FILE). */
  caFile: string;
  /** The root that Pebble's certificates chain to (new per Pebble run). */
  root(): Promise<string>;
  /** Orders Pebble has received so far (counted from its log). */
  orders(): number;
  /** Sets and clears TXT records in pebble-challtestsrv's DNS, which Pebble's validation asks. */
  setTxt(fqdn: string, value: string): Promise<void>;
  clearTxt(fqdn: string): Promise<void>;
  stop(): Promise<void>;
}

async function waitForLine(proc: Subprocess<"ignore", "pipe", "pipe">, pattern: RegExp, log: string[]) {
  const decoder = new TextDecoder();
  let text = "";
  const reader = proc.stdout.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before it was ready:\n${text}`);
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    log.push(chunk);
    if (pattern.test(text)) break;
  }
  // Keep collecting: orders() counts lines that come later.
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      log.push(decoder.decode(value, { stream: true }));
    }
  })().catch(() => {});
}

/** Starts Pebble validating HTTP-01 on `httpPort` of 127.0.0.1 (every name resolves there). */
export async function startPebble(opts: { httpPort: number; validitySeconds?: number }): Promise<Pebble> {
  const bin = testService("pebble");
  const dir = tempDir("minivercel-pebble-");
  const [acmePort, managementPort, tlsPort] = [0, 0, 0].map(freePort);
  const caFile = join(bin, "certs/minica.pem");
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      // Set explicitly: the default (15000) is where moto runs here.
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(bin, "certs/localhost-cert.pem"),
      privateKey: join(bin, "certs/localhost-key.pem"),
      httpPort: opts.httpPort,
      tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      retryAfter: { authz: 1, order: 1 },
      profiles: { default: { description: "test", validityPeriod: opts.validitySeconds ?? 90 * 86_400 } },
    },
  };
  writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
  // Pebble resolves every name through this DNS server (A 127.0.0.1, plus the TXT records tests set).
  const dns = await startTestDns();
  const pebble = Bun.spawn(
    [join(bin, "pebble"), "-config", join(dir, "pebble.json"), "-dnsserver", dns.resolver],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // No random validation delays and no rejected nonces: the tests are about us, not Pebble's chaos.
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    },
  );
  const log: string[] = [];
  const stop = async () => {
    pebble.kill();
    dns.stop();
    await pebble.exited;
  };
  try {
    await waitForLine(pebble, /ACME directory available/, log);
  } catch (error) {
    await stop();
    throw error;
  }
  const ca = await Bun.file(caFile).text();
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    dnsServer: dns.resolver,
    caFile,
    async root() {
      // Pebble opens its management listener after it logs that the directory is available.
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(`https://127.0.0.1:${managementPort}/roots/0`, { tls: { ca } });
          if (res.ok) return await res.text();
          if (attempt >= 50) throw new Error(`pebble /roots/0: HTTP ${res.status}`);
        } catch (error) {
          if (attempt >= 50) throw error;
        }
        await Bun.sleep(100);
      }
    },
    orders: () => (log.join("").match(/Added order/g) ?? []).length,
    setTxt: dns.setTxt,
    clearTxt: dns.clearTxt,
    stop,
  };
}

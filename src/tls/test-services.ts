// Test support for automatic HTTPS: Pebble (Let's Encrypt's ACME test server) and pebble-challtestsrv (its DNS)
// per test file on free ports, and the test PostgreSQL. Binaries from MINIVERCEL_TEST_PEBBLE_BIN or services.sh.

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { tempDir } from "../testing.ts";

const SCRIPT = resolve(import.meta.dir, "../../scripts/services.sh");

/** A test service's address: from the environment (scripts/test.sh exports them) or the project's script. */
function service(name: string, variable: string): string {
  const given = process.env[variable];
  if (given) return given;
  const run = Bun.spawnSync(["bash", SCRIPT, name], { stdout: "pipe", stderr: "pipe" });
  const address = run.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (!run.success || address === "") throw new Error(`no ${name} for the tests: ${run.stderr.toString()}`);
  return address;
}

export const testPostgresUrl = (): string => service("postgres", "MINIVERCEL_TEST_DATABASE_URL");

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const socket = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = socket.port;
  socket.stop(true);
  return port;
}

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
  const bin = service("pebble", "MINIVERCEL_TEST_PEBBLE_BIN");
  const dir = tempDir("minivercel-pebble-");
  const [acmePort, managementPort, dnsPort, challManagement, tlsPort] = [0, 0, 0, 0, 0].map(freePort);
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
  const chall = Bun.spawn(
    [
      join(bin, "pebble-challtestsrv"),
      `-dnsserver=127.0.0.1:${dnsPort}`,
      `-management=127.0.0.1:${challManagement}`,
      "-http01=",
      "-https01=",
      "-tlsalpn01=",
      "-doh=",
      "-defaultIPv4=127.0.0.1",
      "-defaultIPv6=",
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const pebble = Bun.spawn(
    [join(bin, "pebble"), "-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // No random validation delays and no rejected nonces: the tests are about us, not Pebble's chaos.
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    },
  );
  const log: string[] = [];
  const challLog: string[] = [];
  const stop = async () => {
    pebble.kill();
    chall.kill();
    await Promise.all([pebble.exited, chall.exited]);
  };
  try {
    await Promise.all([
      waitForLine(pebble, /ACME directory available/, log),
      waitForLine(chall, /Starting management server/, challLog),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const ca = await Bun.file(caFile).text();
  const manage = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${challManagement}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status}`);
  };
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    dnsServer: `127.0.0.1:${dnsPort}`,
    caFile,
    async root() {
      const res = await fetch(`https://127.0.0.1:${managementPort}/roots/0`, { tls: { ca } });
      return res.text();
    },
    orders: () => (log.join("").match(/Added order/g) ?? []).length,
    setTxt: (fqdn, value) => manage("/set-txt", { host: fqdn, value }),
    clearTxt: (fqdn) => manage("/clear-txt", { host: fqdn }),
    stop,
  };
}

// `minivercel doctor` as a user runs it (a real process): the sandbox on this host and on one without its
// programs, ports free or held by a running server, the data directory, bad settings, --env-file, and DNS
// answers from a real DNS server (pebble-challtestsrv). The scale-out services: services.test.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_PROGRAMS } from "../sandbox/packages.ts";
import { HELPER_PATH } from "../sandbox/proc.ts";
import { tempDir } from "../testing/deps.ts";
import { startTestDns, type TestDns } from "../testing/dns.ts";
import { cli, killLeftovers, lifecycleEnv, startServe } from "../testing/lifecycle.ts";
import { freePort } from "../testing/services.ts";

afterAll(killLeftovers);

/** The environment of a fresh machine's shell: nothing configured, a data directory of its own. */
const fresh = (extra: Record<string, string> = {}) =>
  lifecycleEnv({ PORT: String(freePort()), PROXY_PORT: String(freePort()), ...extra });

const doctor = (env: Record<string, string>, ...args: string[]) => cli(env, ["doctor", ...args]);

/** The line of check `name`, e.g. "FAIL  sandbox programs  missing ...". */
function line(stdout: string, name: string): string {
  const found = stdout.split("\n").find((l) => l.slice(6).startsWith(`${name} `));
  if (found === undefined) throw new Error(`no line for '${name}' in:\n${stdout}`);
  return found;
}

describe("usage", () => {
  test("--help says what it checks; exit 0", async () => {
    const out = await doctor(fresh(), "--help");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Usage: minivercel doctor");
    expect(out.stdout).toContain("--env-file");
  });

  test("an unknown option, an argument or an unreadable --env-file: one line, exit 2", async () => {
    for (const args of [["--frobnicate"], ["extra"], ["--env-file", "/nonexistent/settings"]]) {
      const out = await doctor(fresh(), ...args);
      expect(out.code).toBe(2);
      expect(out.stdout).toBe("");
      expect(out.stderr.split("\n")[0]).toStartWith("minivercel: ");
    }
  });

  test("a bad setting is a failed check that names it; exit 1", async () => {
    const out = await doctor(fresh({ PORT: "ninety" }));
    expect(out.code).toBe(1);
    expect(line(out.stdout, "configuration")).toMatch(/^FAIL {2}configuration +PORT: .*'ninety'; fix: /);
  });
});

describe("the build sandbox (worker role)", () => {
  test("on this host: every step passes, ending with a real sandboxed command with its network; exit 0", async () => {
    const out = await doctor(fresh({ MINIVERCEL_ROLE: "worker" }));
    expect(out.stdout).toContain("minivercel doctor ");
    for (const name of [
      "sandbox programs",
      "runs as root",
      "user namespaces",
      "slirp4netns",
      "sandbox start",
    ])
      expect(line(out.stdout, name)).toStartWith("ok ");
    expect(line(out.stdout, "sandbox start")).toContain("a command ran in the sandbox, with its network");
    expect(out.stdout.trim().split("\n").at(-1)).toMatch(/^All \d+ checks passed/);
    expect(out.code).toBe(0);
  }, 30_000);

  test("without bwrap and slirp4netns: the programs line fails with the install command; exit 1", async () => {
    const helpers = tempDir("minivercel-helpers-");
    for (const name of BUILD_PROGRAMS) {
      const found = Bun.which(name, { PATH: HELPER_PATH });
      if (found && name !== "bwrap" && name !== "slirp4netns") symlinkSync(found, join(helpers, name));
    }
    const out = await doctor(fresh({ MINIVERCEL_ROLE: "worker", BUILD_SANDBOX_PATH: helpers }));
    expect(out.code).toBe(1);
    expect(line(out.stdout, "sandbox programs")).toMatch(
      /^FAIL {2}sandbox programs +missing programs: bwrap, slirp4netns \(BUILD_SANDBOX_PATH=.*\); fix: (sudo )?\S+ .*bubblewrap slirp4netns/,
    );
    expect(line(out.stdout, "user namespaces")).toStartWith("skip");
    expect(line(out.stdout, "sandbox start")).toStartWith("skip");
    expect(out.stdout.trim().split("\n").at(-1)).toMatch(/^1 of \d+ checks failed/);
  });

  test("BUILD_SANDBOX=none: a warning, not a failure", async () => {
    const out = await doctor(fresh({ MINIVERCEL_ROLE: "worker", BUILD_SANDBOX: "none" }));
    expect(line(out.stdout, "build sandbox")).toMatch(
      /^WARN {2}build sandbox +off \(BUILD_SANDBOX=none\).*; fix: /,
    );
    expect(out.code).toBe(0);
  });
});

describe("this machine", () => {
  test("a port another program holds fails with how to find it; one the server on this data directory holds is fine", async () => {
    const env = fresh({ MINIVERCEL_ROLE: "api" });
    const holder = Bun.listen({ hostname: "0.0.0.0", port: Number(env.PORT), socket: { data() {} } });
    try {
      const out = await doctor(env);
      expect(out.code).toBe(1);
      expect(line(out.stdout, `PORT ${env.PORT}`)).toContain(
        `in use by another program (PORT, for the API and dashboard); fix: find it with: ss -ltnp 'sport = :${env.PORT}'`,
      );
    } finally {
      holder.stop(true);
    }
    const server = await startServe(env);
    try {
      const out = await doctor(env);
      expect(line(out.stdout, `PORT ${env.PORT}`)).toMatch(
        /^ok .*in use by the minivercel server running on .*\(pid \d+\)/,
      );
      expect(out.code).toBe(0);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
    }
  }, 60_000);

  test("a data directory that cannot be written fails; one still to be created is fine", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const bad = await doctor(fresh({ MINIVERCEL_ROLE: "api", MINIVERCEL_DATA: join(file, "data") }));
    expect(bad.code).toBe(1);
    expect(line(bad.stdout, "data directory")).toContain(
      `FAIL  data directory  ${file} is not a directory; fix: `,
    );
    const later = join(tempDir(), "not", "yet");
    const good = await doctor(fresh({ MINIVERCEL_ROLE: "api", MINIVERCEL_DATA: later }));
    expect(line(good.stdout, "data directory")).toContain(`${later} will be created`);
  });

  test("--env-file: settings as install.sh writes them, over the environment", async () => {
    const settings = join(tempDir(), "minivercel");
    const busy = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      writeFileSync(settings, `# settings\n\nPORT=${busy.port}\nMINIVERCEL_ROLE="api"\n`);
      const out = await doctor(fresh({ MINIVERCEL_ROLE: "worker" }), "--env-file", settings);
      expect(out.stdout).toContain("roles api;");
      expect(line(out.stdout, `PORT ${busy.port}`)).toStartWith("FAIL");
    } finally {
      busy.stop(true);
    }
  });
});

describe("DNS and HTTPS (proxy role)", () => {
  let dns: TestDns;
  beforeAll(async () => {
    dns = await startTestDns();
  });
  afterAll(() => dns?.stop());
  const proxy = (extra: Record<string, string> = {}) =>
    fresh({ MINIVERCEL_ROLE: "proxy", BASE_DOMAIN: "example.test", DNS_RESOLVERS: dns.resolver, ...extra });

  test("the default localhost needs no DNS", async () => {
    const out = await doctor(fresh({ MINIVERCEL_ROLE: "proxy" }));
    expect(line(out.stdout, "BASE_DOMAIN")).toMatch(/^ok {4}BASE_DOMAIN +localhost: /);
    expect(out.code).toBe(0);
  });

  test("BASE_DOMAIN without a wildcard record: the wildcard line fails with the record to add", async () => {
    await dns.setDefaultIPv4("");
    await dns.addA("example.test", ["192.0.2.10"]);
    const out = await doctor(proxy());
    expect(line(out.stdout, "BASE_DOMAIN")).toMatch(
      /^ok {4}BASE_DOMAIN +example\.test resolves to 192\.0\.2\.10$/,
    );
    expect(line(out.stdout, "wildcard DNS")).toMatch(
      /^FAIL {2}wildcard DNS +names under example\.test do not resolve .*; fix: add a wildcard DNS record \*\.example\.test pointing at this server$/,
    );
    expect(out.code).toBe(1);
  });

  test("nothing resolves: BASE_DOMAIN fails too", async () => {
    await dns.setDefaultIPv4("");
    const out = await doctor(proxy({ BASE_DOMAIN: "nowhere.test" }));
    expect(line(out.stdout, "BASE_DOMAIN")).toContain("nowhere.test does not resolve");
    expect(line(out.stdout, "BASE_DOMAIN")).toContain("; fix: add a DNS A record for nowhere.test");
    expect(out.code).toBe(1);
  });

  test("with ACME on: an unreachable CA directory fails; 443 and 80 not answering is a warning (best effort)", async () => {
    await dns.setDefaultIPv4("127.0.0.1");
    const closed = freePort();
    const out = await doctor(
      proxy({
        ACME_DIRECTORY_URL: `https://127.0.0.1:${closed}/dir`,
        ACME_EMAIL: "ops@example.test",
        HTTPS_PORT: String(freePort()),
      }),
    );
    expect(line(out.stdout, "wildcard DNS")).toStartWith("ok ");
    expect(line(out.stdout, "ACME directory")).toMatch(
      /^FAIL .*cannot be reached from here.*; fix: check ACME_DIRECTORY_URL/,
    );
    const reach = line(out.stdout, "HTTPS from outside");
    expect(reach).toMatch(/^(WARN|ok {3}) /);
    if (reach.startsWith("WARN")) expect(reach).toContain("; fix: open ports 80 and 443");
    expect(out.code).toBe(1);
  }, 30_000);
});

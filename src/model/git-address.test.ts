// Git hosts on the platform's own network are refused: address classes, URL forms that hide them, DNS names that
// resolve to them, and a real listener on loopback that neither the API nor a build ever connects to.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, obj, testDeps, testUser } from "../testing/deps.ts";
import { blockedAddressReason, gitAddressProblem, gitUrlHost } from "./git-address.ts";

describe("addresses", () => {
  test("loopback, private, link-local, CGNAT, multicast and reserved IPv4 are blocked; public ones pass", () => {
    for (const ip of ["127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1"])
      expect(blockedAddressReason(ip)).not.toBeNull();
    for (const ip of ["169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"])
      expect(blockedAddressReason(ip)).not.toBeNull();
    for (const ip of ["8.8.8.8", "140.82.121.3", "172.32.0.1", "192.169.0.1", "100.128.0.1"])
      expect(blockedAddressReason(ip)).toBeNull();
    expect(blockedAddressReason("169.254.169.254")).toContain("link-local");
  });

  test("IPv6 loopback, unique local, link-local and IPv4 inside IPv6 are blocked", () => {
    for (const ip of ["::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1"])
      expect(blockedAddressReason(ip)).not.toBeNull();
    for (const ip of ["::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::a9fe:a9fe", "::ffff:10.1.2.3"])
      expect(blockedAddressReason(ip)).not.toBeNull();
    for (const ip of ["2606:4700::1111", "::ffff:8.8.8.8"]) expect(blockedAddressReason(ip)).toBeNull();
  });

  test("the host is read the way git will connect, numeric disguises included", () => {
    expect(gitUrlHost("https://GitHub.com/a/b.git")).toBe("github.com");
    expect(gitUrlHost("http://2130706433/x.git")).toBe("127.0.0.1");
    expect(gitUrlHost("http://0x7f.1/x.git")).toBe("127.0.0.1");
    expect(gitUrlHost("http://[::1]:8080/x.git")).toBe("::1");
    expect(gitUrlHost("git@127.0.0.1:org/repo.git")).toBe("127.0.0.1");
    expect(gitUrlHost("ssh://git@[::ffff:127.0.0.1]/x.git")).toBe("::ffff:7f00:1");
    expect(gitUrlHost("git://10.0.0.5/x.git")).toBe("10.0.0.5");
    expect(gitUrlHost("/srv/repos/x.git")).toBeNull();
    expect(gitUrlHost("file:///srv/repos/x.git")).toBeNull();
  });

  test("names that resolve to such an address are refused, with what they resolved to", async () => {
    expect(await gitAddressProblem("https://localhost/x.git", false)).toMatch(
      /^host localhost resolves to (127\.0\.0\.1|::1), is a loopback address; minivercel does not clone from its own network/,
    );
    expect(await gitAddressProblem("http://0x7f.1/x.git", false)).toContain(
      "host 127.0.0.1 is a loopback address",
    );
    expect(await gitAddressProblem("https://localhost/x.git", true)).toBeNull();
    // A name that does not resolve is left to the clone to report.
    expect(await gitAddressProblem("https://no-such-host.invalid/x.git", false)).toBeNull();
  });
});

describe("a git URL at a loopback listener", () => {
  let deps: Deps;
  let roles: Running;
  let connections = 0;
  let listener: Bun.TCPSocketListener<undefined>;

  beforeAll(async () => {
    listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          connections += 1;
          socket.end();
        },
        data() {},
      },
    });
    // Not allowed: no MINIVERCEL_ALLOW_LOCAL_GIT or MINIVERCEL_ALLOW_PRIVATE_GIT.
    deps = await testDeps({
      MINIVERCEL_ALLOW_LOCAL_GIT: "0",
      PORT: "0",
      PROXY_PORT: "0",
      MINIVERCEL_ROLE: "api,worker",
    });
    roles = await startRoles(deps);
  });
  afterAll(async () => {
    await roles.stop();
    await deps.close();
    listener.stop(true);
  }, 60_000);

  test("is refused by the API (create and update) with a clear 422, and never contacted", async () => {
    const { token } = await testUser(deps);
    const api = apiClient(deps, token);
    const url = `http://127.0.0.1:${listener.port}/repo.git`;
    for (const gitUrl of [url, `http://localhost:${listener.port}/repo.git`, `git@127.0.0.1:repo.git`]) {
      const res = await api("POST", "/api/projects", { name: "ssrf", gitUrl });
      expect(res.status).toBe(422);
      expect(obj(obj(res.body).error).field).toBe("gitUrl");
      expect(String(obj(obj(res.body).error).message)).toContain("does not clone from its own network");
    }
    const project = obj((await api("POST", "/api/projects", { name: "fine" })).body);
    const patched = await api("PATCH", `/api/projects/${project.id}`, { gitUrl: url });
    expect(patched.status).toBe(422);
    expect(connections).toBe(0);
  });

  test("a build of such a URL stored earlier fails before connecting", async () => {
    const { user } = await testUser(deps);
    // As an older minivercel (or a name that resolved elsewhere when it was saved) would have stored it.
    const project = await deps.store.projects.create(
      {
        userId: user.id,
        name: "stored",
        subDomain: `stored-${crypto.randomUUID().slice(0, 6)}`,
        gitUrl: `http://127.0.0.1:${listener.port}/repo.git`,
        customDomain: null,
        productionBranch: "main",
        rootDirectory: null,
        installCommand: null,
        buildCommand: null,
        outputDirectory: null,
        buildTimeoutSeconds: null,
        spaFallback: false,
        startCommand: null,
        idleTimeoutMinutes: null,
        maxInstances: null,
      },
      100,
    );
    const queued = await queueDeployment(deps, user.id, { projectId: project.id });
    let d = await deps.store.deployments.find(queued.id);
    for (let i = 0; i < 300 && d && !["READY", "FAIL"].includes(d.status); i++) {
      await Bun.sleep(100);
      d = await deps.store.deployments.find(queued.id);
    }
    expect(d?.status).toBe("FAIL");
    expect(d?.statusReason).toBe(
      `git URL host 127.0.0.1 is a loopback address; minivercel does not clone from its own network (an operator can allow it with MINIVERCEL_ALLOW_PRIVATE_GIT=1)`,
    );
    expect(connections).toBe(0);
  }, 60_000);
});

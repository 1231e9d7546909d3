// Proxy conformance through the handler, part 1: routing by Host, safety (traversal, symlinks, bad input,
// missing blobs), route changes reaching every proxy through the bus, and the memory cache.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { announceRoutes } from "../deploy/announce.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { branchUrl, deploymentUrl, productionUrl } from "../model/urls.ts";
import { observe } from "../observe/http.ts";
import { createLogger } from "../observe/log.ts";
import { apiClient, type Client, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, eventually, request, siteProject } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let proxy: SiteProxy;
let userId: string;
let api: Client;

beforeAll(async () => {
  deps = await testDeps();
  const { user, token } = await testUser(deps);
  userId = user.id;
  api = apiClient(deps, token);
  proxy = await createProxy(deps, { reconcileMs: 60_000 });
});

afterAll(async () => {
  await proxy.stop();
  await deps.close();
});

async function body(url: string, headers: Record<string, string> = {}, via = proxy) {
  const res = await request(via, url, { headers });
  return { status: res.status, text: await res.text() };
}

/** Counts the store's reads of one project (calls through to the real store), until restored. */
/** Counts the store's reads of one project (and holds each back `delayMs` first); the store still answers. */
function countFinds(deps: Deps, projectId: string, delayMs = 0) {
  const projects = deps.store.projects;
  const original = projects.find;
  let count = 0;
  projects.find = async (id: string) => {
    if (id === projectId) {
      count++;
      await Bun.sleep(delayMs);
    }
    return original.call(projects, id);
  };
  return {
    count: () => count,
    restore: () => {
      projects.find = original;
    },
  };
}

describe("routing by Host", () => {
  test("production, immutable deployment URLs and branch previews", async () => {
    const project = await siteProject(deps, userId);
    const v1 = await deploySite(deps, project, { "index.html": "v1" });
    const v2 = await deploySite(deps, project, { "index.html": "v2" });
    // The proxy learns of the new production through the bus and readies it before switching: a moment later.
    await eventually(async () =>
      expect(await body(productionUrl(project, deps.config))).toEqual({ status: 200, text: "v2" }),
    );
    expect(await body(deploymentUrl(project, v1.id, deps.config))).toEqual({ status: 200, text: "v1" });
    expect(await body(deploymentUrl(project, v2.id, deps.config))).toEqual({ status: 200, text: "v2" });

    const feature = "feature/Login_Page";
    await deploySite(deps, project, { "index.html": "preview 1" }, { target: "preview", branch: feature });
    const preview = branchUrl(project, feature, deps.config);
    expect(preview).toContain("--git-feature-login-page.");
    expect(await body(preview)).toEqual({ status: 200, text: "preview 1" });
    await deploySite(deps, project, { "index.html": "preview 2" }, { target: "preview", branch: feature });
    expect(await body(preview)).toEqual({ status: 200, text: "preview 2" });
    // Previews never move production.
    expect(await body(productionUrl(project, deps.config))).toEqual({ status: 200, text: "v2" });
  });

  test("a long branch name's truncated preview host still finds it", async () => {
    const project = await siteProject(deps, userId);
    const branch = `feature/${"very-long-branch-name-".repeat(4)}end`;
    await deploySite(deps, project, { "index.html": "long" }, { target: "preview", branch });
    const url = branchUrl(project, branch, deps.config);
    expect(new URL(url).hostname.split(".")[0]?.length).toBe(63);
    expect(await body(url)).toEqual({ status: 200, text: "long" });
  });

  test("custom domains by exact host, case and port insensitive", async () => {
    const domain = `www.${crypto.randomUUID().slice(0, 8)}.example.com`;
    const project = await siteProject(deps, userId, { customDomain: domain });
    await deploySite(deps, project, { "index.html": "custom" });
    // Not served until its owner verified it: claiming a domain proves nothing.
    expect((await body(`http://${domain}/`)).text).toContain("No site here");
    await deps.store.projects.markDomainVerified(project.id, domain);
    await announceRoutes(deps.bus, project.id);
    // The route change reaches the proxy through the bus, like every other one.
    await eventually(async () =>
      expect(await body(`http://${domain}/`)).toEqual({ status: 200, text: "custom" }),
    );
    expect(await body(`http://${domain}/`, { host: `${domain.toUpperCase()}:8001` })).toEqual({
      status: 200,
      text: "custom",
    });
    const apex = await body(`http://${domain.slice(4)}/`);
    expect(apex.status).toBe(404);
    expect(apex.text).toContain("No site here");
  });

  test("unknown hosts, undeployed projects, unknown deployments and branches get clear 404 pages", async () => {
    const unknown = await body("http://nothing-here.localhost:8001/");
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("No site here");
    expect((await body("http://example.org/")).text).toContain("No site here");
    const empty = await siteProject(deps, userId);
    // Creating a project announces nothing: the proxy learns of it at the next reconcile.
    await proxy.reconcile();
    const notYet = await body(productionUrl(empty, deps.config));
    expect(notYet.status).toBe(404);
    expect(notYet.text).toContain("Not deployed yet");
    expect((await body(`http://${empty.subDomain}--0123456789ab.localhost/`)).text).toContain(
      "No deployment here",
    );
    expect((await body(`http://${empty.subDomain}--nothex.localhost/`)).status).toBe(404);
    expect((await body(`http://${empty.subDomain}--git-nope.localhost/`)).text).toContain(
      "branch has no ready",
    );
  });

  test("a deployment that is not READY is never served", async () => {
    const project = await siteProject(deps, userId);
    await deploySite(deps, project, { "index.html": "live" });
    const building = await deploySite(deps, project, { "index.html": "unfinished" }, { notReady: true });
    expect((await body(deploymentUrl(project, building.id, deps.config))).status).toBe(404);
    expect(await body(productionUrl(project, deps.config))).toEqual({ status: 200, text: "live" });
  });

  test("malformed or missing Host is refused with 400; nothing from the request is reflected", async () => {
    for (const host of ["", "a b", "bad_host.localhost", "x.localhost:99999", "<script>.localhost", "a..b"]) {
      const res = await proxy.fetch(new Request("http://x.localhost/", { headers: { host } }));
      expect({ host, status: res.status }).toEqual({ host, status: 400 });
      expect(await res.text()).not.toContain("<script>");
    }
    expect((await proxy.fetch(new Request("http://x.localhost/"))).status).toBe(400);
    const evil = "/<script>alert(1)</script>";
    const res = await body(`http://nothing.localhost${evil}`);
    expect(res.text).not.toContain("<script>alert");
  });
});

describe("safety", () => {
  let project: Project;
  beforeAll(async () => {
    project = await siteProject(deps, userId, { spaFallback: false });
    await deploySite(
      deps,
      project,
      { "index.html": "home", "a/b.txt": "b" },
      { symlinks: { passwd: "/etc/passwd", up: "../.." } },
    );
  });

  test("the traversal corpus never leaves the deployment", async () => {
    const base = productionUrl(project, deps.config);
    for (const path of [
      "/../../../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%252e%252e/%252e%252e/etc/passwd",
      "/..%2f..%2fetc%2fpasswd",
      "/a/..%5c..%5cetc%5cpasswd",
      "/a\\..\\..\\etc\\passwd",
      "/index.html%00.txt",
      "/%c0%ae%c0%ae/etc/passwd",
      `/${"a/".repeat(600)}`,
    ]) {
      const res = await request(proxy, `${base}${path}`);
      const text = await res.text();
      expect({ path, ok: res.ok }).toEqual({ path, ok: false });
      expect(text).not.toContain("root:");
    }
    const longPath = await request(proxy, `${base}/${"x".repeat(2000)}`);
    expect(longPath.status).toBe(414);
    expect((await request(proxy, `${base}/a/b.txt`)).status).toBe(200);
  });

  test("a symlink out of the build output is not deployed, so not served", async () => {
    for (const path of ["/passwd", "/up/etc/passwd"]) {
      const res = await request(proxy, `${productionUrl(project, deps.config)}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("root:");
    }
  });

  test("a blob missing from the store is a 502 page, never a crash; so is a missing manifest", async () => {
    const fresh = await siteProject(deps, userId);
    const big = "x".repeat(300 * 1024);
    const d = await deploySite(deps, fresh, {
      "index.html": "ok",
      "big.txt": `${big}1`,
      "small.txt": "small",
    });
    const files = (await deps.artifacts.getManifest(d.id))?.files ?? {};
    const blobPath = (hash: string) =>
      join(deps.config.dataDir, "artifacts", "blobs", hash.slice(0, 2), hash.slice(2));
    rmSync(blobPath(files["/small.txt"]?.hash ?? ""));
    rmSync(blobPath(files["/big.txt"]?.hash ?? ""));
    const other = await createProxy(deps, { reconcileMs: 60_000, maxItemBytes: 256 * 1024 });
    try {
      for (const path of ["/small.txt", "/big.txt"]) {
        const res = await request(other, `${productionUrl(fresh, deps.config)}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 502 });
        expect(await res.text()).toContain("Deployment unavailable");
      }
      await deps.artifacts.deleteManifest(d.id);
      const gone = await siteProject(deps, userId);
      const g = await deploySite(deps, gone, { "index.html": "soon gone" });
      await deps.artifacts.deleteManifest(g.id);
      expect((await request(other, productionUrl(gone, deps.config))).status).toBe(502);
    } finally {
      await other.stop();
    }
  });
});

test("the access log (PROXY_ACCESS_LOG, off by default): one JSON line per request, with its deployment", async () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "info", write: (line) => lines.push(line) });
  const logged = await createProxy(deps, { reconcileMs: 60_000, accessLog: true });
  const project = await siteProject(deps, userId);
  const d = await deploySite(deps, project, { "index.html": "logged" });
  await logged.reconcile();
  const handler = observe(
    "proxy",
    logged.fetch,
    { ...deps, log },
    {
      accessLog: true,
      fields: (r, response) => logged.accessFields(r, response),
    },
  );
  const send = (url: string) => handler(new Request(url, { headers: { host: new URL(url).host } }));
  try {
    // A newline or a quote in the path cannot forge a line: it stays inside one JSON string.
    expect((await send('http://nothing.localhost/a%0Ab"c')).status).toBe(400);
    expect((await send(productionUrl(project, deps.config))).status).toBe(200);
    expect(lines).toHaveLength(2);
    const [bad, good] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bad).toMatchObject({
      msg: "access",
      role: "proxy",
      method: "GET",
      path: "/a%0Ab%22c",
      status: 400,
    });
    expect(bad?.deploymentId).toBeNull();
    expect(good).toMatchObject({ status: 200, deploymentId: d.id, bytes: 6, path: "/" });
    expect(typeof good?.requestId).toBe("string");
  } finally {
    await logged.stop();
  }
});

describe("memory cache", () => {
  test("small files are answered from memory; large ones are read from the store each time", async () => {
    const project = await siteProject(deps, userId);
    const d = await deploySite(deps, project, {
      "index.html": "cached",
      "big.bin": new Uint8Array(300 * 1024).fill(7),
    });
    const files = (await deps.artifacts.getManifest(d.id))?.files ?? {};
    const own = await createProxy(deps, { reconcileMs: 60_000, maxItemBytes: 256 * 1024 });
    try {
      const base = productionUrl(project, deps.config);
      expect(await (await request(own, base)).text()).toBe("cached");
      expect((await request(own, `${base}/big.bin`)).status).toBe(200);
      for (const path of ["/index.html", "/big.bin"]) {
        const hash = files[path]?.hash ?? "";
        rmSync(join(deps.config.dataDir, "artifacts", "blobs", hash.slice(0, 2), hash.slice(2)));
      }
      expect(await (await request(own, base)).text()).toBe("cached");
      // A large blob's handle is trusted for a second before the store is asked again.
      await Bun.sleep(1100);
      expect((await request(own, `${base}/big.bin`)).status).toBe(502);
    } finally {
      await own.stop();
    }
  });
});

describe("route changes", () => {
  test("promote and rollback through the API reach every proxy through the bus within 1 s", async () => {
    const project = await siteProject(deps, userId);
    const v1 = await deploySite(deps, project, { "index.html": "v1" });
    await deploySite(deps, project, { "index.html": "v2" });
    const second = await createProxy(deps, { reconcileMs: 60_000 });
    try {
      const url = productionUrl(project, deps.config);
      const both = (expected: string) => async () => {
        for (const p of [proxy, second]) expect((await body(url, {}, p)).text).toBe(expected);
      };
      await both("v2")();
      expect((await api("POST", `/api/deployments/${v1.id}/promote`)).status).toBe(200);
      expect(await eventually(both("v1"), 1000)).toBeLessThan(1000);
      expect((await api("POST", `/api/projects/${project.id}/rollback`)).status).toBe(200);
      expect(await eventually(both("v2"), 1000)).toBeLessThan(1000);
      expect((await api("POST", `/api/projects/${project.id}/rollback`)).status).toBe(200);
      expect(await eventually(both("v1"), 1000)).toBeLessThan(1000);
    } finally {
      await second.stop();
    }
  });

  test("renaming a subdomain or deleting a project through the API reaches the proxy at once", async () => {
    const project = await siteProject(deps, userId);
    await deploySite(deps, project, { "index.html": "renamed" });
    const newSub = `renamed-${crypto.randomUUID().slice(0, 6)}`;
    expect((await api("PATCH", `/api/projects/${project.id}`, { subDomain: newSub })).status).toBe(200);
    const moved = productionUrl({ subDomain: newSub }, deps.config);
    // The reconcile runs every 60 s here: only the announcement can make this pass.
    expect(await eventually(async () => expect((await body(moved)).text).toBe("renamed"), 1000)).toBeLessThan(
      1000,
    );
    expect((await body(productionUrl(project, deps.config))).status).toBe(404);
    expect((await api("DELETE", `/api/projects/${project.id}`)).status).toBe(204);
    expect(await eventually(async () => expect((await body(moved)).status).toBe(404), 1000)).toBeLessThan(
      1000,
    );
  });

  test("a first production deployment is served once the store says READY, before any message arrives", async () => {
    const project = await siteProject(deps, userId);
    // Reconciles only at start (60 s after), and the deployment below is marked READY straight in the store: no
    // route-changes message. Only the proxy re-reading a project without production can serve it.
    const quick = await createProxy(deps, { reconcileMs: 60_000, recheckMissingMs: 200 });
    try {
      const url = productionUrl(project, deps.config);
      expect((await body(url, {}, quick)).text).toContain("Not deployed yet");
      const pending = await deploySite(deps, project, { "index.html": "first" }, { notReady: true });
      expect(await deps.store.deployments.markReady(pending.id)).not.toBeNull();
      // Within the interval the last read still holds; after it, the next request asks the store again.
      const waited = await eventually(
        async () => expect(await body(url, {}, quick)).toEqual({ status: 200, text: "first" }),
        2000,
      );
      expect(waited).toBeLessThan(2000);
      // Many requests for a project still without production re-read it at most once per interval.
      const empty = await siteProject(deps, userId);
      await quick.reconcile();
      const reads = countFinds(deps, empty.id);
      try {
        const emptyUrl = productionUrl(empty, deps.config);
        const started = performance.now();
        while (
          performance.now() - started < 500 ||
          (reads.count() === 0 && performance.now() - started < 5000)
        ) {
          const answers = await Promise.all(Array.from({ length: 20 }, () => body(emptyUrl, {}, quick)));
          for (const answer of answers) expect(answer.text).toContain("Not deployed yet");
        }
        const elapsed = performance.now() - started;
        expect(reads.count()).toBeGreaterThanOrEqual(1);
        expect(reads.count()).toBeLessThanOrEqual(Math.floor(elapsed / 200) + 1);
      } finally {
        reads.restore();
      }
    } finally {
      await quick.stop();
    }
  });

  test("a request for a project without production waits for the reload its announcement started", async () => {
    const project = await siteProject(deps, userId);
    // No reconcile and no re-read on its own during the test: only the announcement's reload can serve it.
    const quiet = await createProxy(deps, { reconcileMs: 60_000, recheckMissingMs: 60_000 });
    const url = productionUrl(project, deps.config);
    try {
      expect((await body(url, {}, quiet)).text).toContain("Not deployed yet");
      // The reload the READY announcement starts reads the project slowly; the request comes meanwhile.
      const reads = countFinds(deps, project.id, 300);
      try {
        await deploySite(deps, project, { "index.html": "first" });
        const started = performance.now();
        expect(await body(url, {}, quiet)).toEqual({ status: 200, text: "first" });
        // Answered once the slow read was done: it waited for the reload rather than reading again.
        expect(performance.now() - started).toBeGreaterThan(100);
        expect(reads.count()).toBeGreaterThanOrEqual(1);
      } finally {
        reads.restore();
      }
    } finally {
      await quiet.stop();
    }
  });

  test("the periodic reconcile catches changes no message announced", async () => {
    const project = await siteProject(deps, userId);
    const v1 = await deploySite(deps, project, { "index.html": "v1" });
    await deploySite(deps, project, { "index.html": "v2" });
    const polling = await createProxy(deps, { reconcileMs: 50 });
    try {
      const url = productionUrl(project, deps.config);
      expect((await body(url, {}, polling)).text).toBe("v2");
      // Straight to the store: no route-changes message.
      await deps.store.projects.promote(project.id, v1.id);
      await eventually(async () => expect((await body(url, {}, polling)).text).toBe("v1"), 2000);
      // A renamed subdomain moves too; the old host is gone.
      await deps.store.projects.update(userId, project.id, { subDomain: `${project.subDomain}-x` });
      const renamed = productionUrl({ subDomain: `${project.subDomain}-x` }, deps.config);
      await eventually(async () => expect((await body(renamed, {}, polling)).text).toBe("v1"), 2000);
      expect((await body(url, {}, polling)).status).toBe(404);
      await deps.store.projects.delete(userId, project.id);
      await eventually(async () => expect((await body(renamed, {}, polling)).status).toBe(404), 2000);
    } finally {
      await polling.stop();
    }
  });
});

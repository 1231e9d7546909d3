// `_headers` and `_redirects` the proxy cannot honour safely are refused when deployed (a git build and a prebuilt
// upload through the API), naming the file and line; deployments stored before the check are served without them.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { deployUnchecked, request, siteProject } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let api: Client;
let userId: string;
let proxy: SiteProxy;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  const user = await testUser(deps);
  userId = user.user.id;
  api = apiClient(deps, user.token);
  proxy = await createProxy(deps);
});
afterAll(async () => {
  await proxy.stop();
  await roles.stop();
  await deps.close();
}, 60_000);

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

async function upload(files: Record<string, string>) {
  const out: Record<string, { hash: string; size: number }> = {};
  for (const [path, content] of Object.entries(files)) {
    const res = await api("PUT", `/api/files/${sha256(content)}`, content, {
      "content-type": "application/octet-stream",
    });
    expect(res.status).toBeLessThan(300);
    out[path] = { hash: sha256(content), size: Buffer.byteLength(content) };
  }
  return out;
}

async function waitEnded(id: string) {
  for (let i = 0; i < 600; i++) {
    const d = obj((await api("GET", `/api/deployments/${id}`)).body);
    if (["READY", "FAIL", "CANCELED"].includes(String(d.status))) return d;
    await Bun.sleep(100);
  }
  throw new Error(`deployment ${id} did not end`);
}

const EURO =
  "_headers line 3: the value of x-euro has a character outside Latin-1, which HTTP headers cannot carry (percent-encode it)";

describe("refused at deploy time", () => {
  test("a git build with a non-Latin-1 header value and a protocol-relative redirect fails, naming both", async () => {
    const repo = fixtureRepo({
      "index.html": "<h1>hi</h1>",
      _headers: "/*\n  X-Ok: 1\n  X-Euro: €\n",
      _redirects: "/ok /index.html 200\n/away //evil.example/ 301\n",
    });
    const created = obj((await api("POST", "/api/projects", { name: "cfg-git", gitUrl: repo.url })).body);
    const deployed = obj((await api("POST", "/api/deploy", { projectId: created.id })).body);
    const d = await waitEnded(String(deployed.id));
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toBe(
      `_redirects line 2: the target //evil.example/ is protocol-relative (another host); write it as an https:// URL; ${EURO}`,
    );
    expect(await deps.artifacts.getManifest(String(d.id))).toBeNull();
  }, 120_000);

  test("a prebuilt upload with a cookie for other hosts is a 422 and leaves no deployment", async () => {
    const project = obj((await api("POST", "/api/projects", { name: "cfg-prebuilt" })).body);
    const files = await upload({
      "/index.html": "<h1>prebuilt</h1>",
      "/_headers": "/*\n  Set-Cookie: session=x; Domain=localhost; Path=/\n",
    });
    const res = await api("POST", `/api/projects/${project.id}/deployments`, { files, target: "production" });
    expect(res.status).toBe(422);
    expect(obj(obj(res.body).error).message).toBe(
      "_headers line 2: Set-Cookie with a Domain attribute would set a cookie for other hosts; drop the attribute",
    );
    const list = obj((await api("GET", `/api/projects/${project.id}/deployments`)).body);
    expect(list.items).toEqual([]);
  });

  test("warnings do not refuse: they are written to the deployment's log", async () => {
    const project = obj((await api("POST", "/api/projects", { name: "cfg-warn" })).body);
    const files = await upload({
      "/index.html": "<h1>warned</h1>",
      "/_headers": "/*\n  Content-Length: 5\n",
      "/_redirects": "/x /index.html 200 Country=us\n",
    });
    const res = await api("POST", `/api/projects/${project.id}/deployments`, { files, target: "production" });
    expect(res.status).toBe(201);
    const id = String(obj(obj(res.body).deployment).id);
    const logs = obj((await api("GET", `/api/deployments/${id}/logs`)).body);
    const texts = (logs.items as { text: string }[]).map((l) => l.text);
    expect(texts).toContain(
      "warning: _redirects line 1: conditions (query, Country, Language, Role) are not supported (the line is ignored)",
    );
    expect(texts).toContain(
      "warning: _headers line 2: content-length is set by the server and cannot be changed (the line is ignored)",
    );
  });
});

describe("deployments stored before the check", () => {
  let project: Project;

  beforeAll(async () => {
    project = await siteProject(deps, userId);
    const files: Record<string, string> = {
      "/index.html": "<h1>legacy</h1>",
      "/_headers":
        "/*\n  X-Euro: €\n  X-Fine: yes\n  Set-Cookie: tossed=1; Domain=localhost\n  Set-Cookie: own=1\n",
      "/_redirects": "/away //evil.example/ 301\n/splat/* /:splat 302\n",
    };
    await deployUnchecked(deps, project, files);
    await proxy.reconcile();
  });

  test("a non-Latin-1 header value is left out instead of failing every path with a 500", async () => {
    const res = await request(proxy, `${productionUrl(project, deps.config)}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-fine")).toBe("yes");
    expect(res.headers.has("x-euro")).toBe(false);
    expect(res.headers.getSetCookie()).toEqual(["own=1"]);
  });

  test("a protocol-relative target is not followed", async () => {
    const res = await request(proxy, `${productionUrl(project, deps.config)}/away`);
    // Not a redirect: the path is simply missing (here the SPA fallback answers it with the index page).
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toBe("<h1>legacy</h1>");
  });
});

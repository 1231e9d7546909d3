// The proxy through a real socket: the proxy role as `serve` starts it, raw HTTP requests the URL parser never
// normalizes, and 200 promotes and rollbacks under load with zero failures and no response mixing deployments.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, testDeps, testUser } from "../testing/deps.ts";
import { deploySite, eventually, siteProject } from "../testing/sites.ts";

let deps: Deps;
let roles: Running;
let port: number;
let api: Client;
let userId: string;

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    // 200 promote/rollback calls in well under a minute: more than the default write budget (src/api/rate-limit.ts).
    RATE_LIMIT_USER_WRITES_PER_MINUTE: "1000",
  });
  roles = await startRoles(deps);
  port = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  const { user, token } = await testUser(deps);
  userId = user.id;
  api = apiClient(deps, token);
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

/** Sends `head` (request line and headers) as written and returns the raw response. */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

const statusOf = (response: string) => Number(response.slice(9, 12));
const get = (host: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers: { host, ...headers }, redirect: "manual" });

describe("through a real socket", () => {
  let project: Project;
  let host: string;
  beforeAll(async () => {
    project = await siteProject(deps, userId, { spaFallback: false });
    host = `${project.subDomain}.localhost:8001`;
    await deploySite(deps, project, {
      "index.html": "<h1>e2e</h1>",
      "docs/index.html": "docs",
      "app.js": `console.log(${JSON.stringify("x".repeat(5000))});`,
    });
    // The proxy learns of the new production through the bus, a moment later (a request within a second of its
    // last read of the project can still find nothing there).
    await eventually(async () => expect((await get(host, "/")).status).toBe(200), 5000);
  });

  test("serves, redirects, compresses, answers HEAD and 304 with keep-alive", async () => {
    const home = await get(host, "/");
    // A failure shows the page too (not deployed, unknown host, missing files: which one it was).
    const page = home.status === 200 ? "" : (await home.clone().text()).slice(0, 300);
    expect({ status: home.status, page }).toEqual({ status: 200, page: "" });
    expect(await home.text()).toBe("<h1>e2e</h1>");
    const etag = home.headers.get("etag") ?? "";
    expect((await get(host, "/", { "if-none-match": etag })).status).toBe(304);
    const docs = await get(host, "/docs");
    expect(docs.status).toBe(308);
    expect(docs.headers.get("location")).toBe("/docs/");
    const js = await fetch(`http://127.0.0.1:${port}/app.js`, {
      headers: { host, "accept-encoding": "br" },
      decompress: false,
    } as RequestInit);
    expect(js.headers.get("content-encoding")).toBe("br");
    expect(Number(js.headers.get("content-length"))).toBeLessThan(200);
    const head = await raw(`HEAD /app.js HTTP/1.1\r\nHost: ${host}`);
    expect(statusOf(head)).toBe(200);
    expect(head).toMatch(/content-length: 5016\r\n/i);
    expect(head.endsWith("\r\n\r\n")).toBe(true);
  });

  test("raw traversal attempts, bad hosts and a missing Host are refused", async () => {
    for (const path of [
      "/../../../../etc/passwd",
      "/..%2f..%2f..%2fetc%2fpasswd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%252e%252e/%252e%252e/etc/passwd",
      "/a\\..\\..\\etc\\passwd",
      "/index.html%00",
      "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      `/${"a".repeat(5000)}`,
    ]) {
      const response = await raw(`GET ${path} HTTP/1.1\r\nHost: ${host}`);
      expect({ path, ok: statusOf(response) < 300 }).toEqual({ path, ok: false });
      expect(response).not.toContain("root:");
    }
    expect(statusOf(await raw(`GET / HTTP/1.1\r\nHost: bad_host!`))).toBe(400);
    expect(statusOf(await raw("GET / HTTP/1.0"))).toBe(400);
    expect(statusOf(await raw(`GET / HTTP/1.1\r\nHost: unknown.localhost`))).toBe(404);
  });
});

describe("promote and rollback under load", () => {
  const VERSIONS = ["v1", "v2"] as const;
  /** Every line names the version: a response mixing two deployments' bytes would show two names. */
  const index = (v: string) =>
    `<!doctype html>\n${Array.from({ length: 200 }, (_, i) => `<script src="/assets/chunk-${i}.js" data-version="${v}"></script>`).join("\n")}\n`;
  /** Over 1 MB: streamed from the artifact store, not served from memory. */
  const bundle = (v: string) => `${`/* ${v} */ console.log("${v}");\n`.repeat(45_000)}`;
  const page = (v: string, i: number) => `<p>${v} page ${i}</p>`.repeat(40);

  test("200 switches while 8 clients fetch: zero non-2xx, every body whole and from one deployment", async () => {
    const project = await siteProject(deps, userId);
    const files = (v: string) => ({
      "index.html": index(v),
      "assets/app.js": bundle(v),
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`pages/p${i}.html`, page(v, i)])),
    });
    const first = await deploySite(deps, project, files("v1"));
    await deploySite(deps, project, files("v2"));
    const host = `${project.subDomain}.localhost`;
    const expected = new Map<string, string[]>([
      ["/", VERSIONS.map(index)],
      ["/assets/app.js", VERSIONS.map(bundle)],
      ...Array.from(
        { length: 20 },
        (_, i) => [`/pages/p${i}`, VERSIONS.map((v) => page(v, i))] as [string, string[]],
      ),
    ]);
    const paths = [...expected.keys()];

    let done = false;
    let requests = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const client = async (n: number) => {
      for (let i = n; !done; i++) {
        const path = paths[i % paths.length] ?? "/";
        const res = await get(host, path, i % 3 === 0 ? { "accept-encoding": "identity" } : {});
        const text = await res.text();
        requests++;
        const versions = expected.get(path) ?? [];
        const which = versions.indexOf(text);
        if (res.status < 200 || res.status > 299) failures.push(`${path}: ${res.status}`);
        else if (which < 0) failures.push(`${path}: a body that is neither version (${text.length} bytes)`);
        else seen.add(VERSIONS[which] ?? "");
        if (path === "/" && new Set(text.match(/data-version="v\d"/g)).size !== 1)
          failures.push("/: mixed versions");
      }
    };
    const clients = Array.from({ length: 8 }, (_, n) => client(n));

    let switches = 0;
    try {
      for (let i = 0; i < 200; i++) {
        const res =
          i % 2 === 0
            ? await api("POST", `/api/deployments/${first.id}/promote`)
            : await api("POST", `/api/projects/${project.id}/rollback`);
        expect(res.status).toBe(200);
        switches++;
        await Bun.sleep(2);
      }
    } finally {
      done = true;
      await Promise.all(clients);
    }
    expect(switches).toBe(200);
    expect(failures.slice(0, 5)).toEqual([]);
    expect(requests).toBeGreaterThan(1000);
    expect([...seen].sort()).toEqual(["v1", "v2"]);
  }, 30_000);
});

// Automatic HTTPS with DASHBOARD_UPSTREAM: a proxy-only process terminates TLS for the dashboard host and forwards
// it over HTTP to a separate api role (here both in process, each with its own deps and listener). Requests keep
// their method, body and answer; the proxy sets X-Forwarded-Proto/For/Host (a client's own values do not pass).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApi } from "../api/app.ts";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { createUser } from "../identity/accounts.ts";
import { createProxy, type SiteProxy } from "../proxy/proxy.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { type TlsAnswer, type TlsRequest, tlsRequest } from "../testing/tls-client.ts";
import { httpFront } from "./https.ts";
import { type RunningTls, startTls } from "./start.ts";

const BASE = "example.test";
const DASHBOARD = `dashboard.${BASE}`;
let pebble: Pebble;
let root = "";
let apiDeps: Deps;
let upstream: ReturnType<typeof Bun.serve>;
let proxyDeps: Deps;
let proxy: SiteProxy;
let plain: ReturnType<typeof Bun.serve>;
let tls: RunningTls;
/** What the api role received, newest last. */
const seen: { method: string; path: string; headers: Headers }[] = [];

const request = (req: TlsRequest): Promise<TlsAnswer> => tlsRequest(tls.port, DASHBOARD, root, req);
const header = (answer: TlsAnswer, name: string) =>
  answer.headers.filter(([k]) => k === name).map(([, v]) => v);
const lastSeen = () => seen.at(-1) ?? never();

beforeAll(async () => {
  const httpPort = freePort();
  pebble = await startPebble({ httpPort });
  root = await pebble.root();

  // The api role: the JSON API under /api, the dashboard elsewhere (as src/roles.ts routes them).
  apiDeps = await testDeps({ MINIVERCEL_ROLE: "api", BASE_DOMAIN: BASE });
  const api = createApi(apiDeps);
  const dashboard = createDashboard(apiDeps);
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      seen.push({
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: new Headers(req.headers),
      });
      return url.pathname.startsWith("/api/") ? api.handle(req) : dashboard.handle(req);
    },
  });

  // The proxy-only process, with HTTPS and the dashboard host forwarded upstream.
  proxyDeps = await testDeps({
    MINIVERCEL_ROLE: "proxy",
    BASE_DOMAIN: BASE,
    LISTEN_HOST: "127.0.0.1",
    PROXY_PORT: String(httpPort),
    HTTPS_PORT: "0",
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_EMAIL: "ops@example.test",
    ACME_CA_FILE: pebble.caFile,
    DASHBOARD_UPSTREAM: `http://127.0.0.1:${upstream.port}`,
  });
  const https = proxyDeps.config.https ?? never();
  proxy = await createProxy(proxyDeps);
  plain = Bun.serve({
    hostname: "127.0.0.1",
    port: httpPort,
    fetch: httpFront(() => tls.port, proxyDeps.store.certificates),
  });
  tls = await startTls(proxyDeps, https, { sites: proxy.fetch, route: proxy.route, dashboard: null });
  // The dashboard host is an eager name of a process that forwards it: ordered by the first pass.
  await tls.certs.sync();
}, 120_000);

afterAll(async () => {
  await tls?.stop();
  await plain?.stop(true);
  await proxy?.stop();
  await proxyDeps?.close();
  await upstream?.stop(true);
  await apiDeps?.close();
  await pebble?.stop();
});

test("the dashboard host reaches the api role through HTTPS, with the proxy's X-Forwarded headers", async () => {
  expect(tls.certs.served(DASHBOARD)).not.toBeNull();
  const before = seen.length;
  const health = await request({
    path: "/api/health?probe=1",
    // A client's own forwarding headers are replaced, not passed on.
    headers: {
      "x-forwarded-for": "198.51.100.7",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "evil.test",
    },
  });
  expect(health.error).toBeNull();
  expect(health.altNames).toBe(`DNS:${DASHBOARD}`);
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toMatchObject({ status: "ok", roles: ["api"] });
  expect(seen.length).toBe(before + 1);
  const got = lastSeen();
  expect(got.method).toBe("GET");
  expect(got.path).toBe("/api/health?probe=1");
  expect(got.headers.get("x-forwarded-proto")).toBe("https");
  expect(got.headers.get("x-forwarded-for")).toBe("127.0.0.1");
  expect(got.headers.get("x-forwarded-host")).toBe(DASHBOARD);
});

test("request bodies and response codes pass through both ways", async () => {
  const { user, token } = await testUser(apiDeps);
  const subDomain = `fwd-${crypto.randomUUID().slice(0, 8)}`;
  const body = JSON.stringify({
    name: "Forwarded",
    gitUrl: "https://git.example.com/team/fwd.git",
    subDomain,
  });
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  const created = await request({ method: "POST", path: "/api/projects", headers: auth, body });
  expect(created.status).toBe(201);
  expect(JSON.parse(created.body)).toMatchObject({ name: "Forwarded", subDomain });
  expect(lastSeen().method).toBe("POST");
  // The api role's store has it: the body arrived whole.
  const projects = () => apiDeps.store.projects.list(user.id, { limit: 100, cursor: null });
  const [project] = (await projects()).items.filter((p) => p.subDomain === subDomain);
  expect(project?.gitUrl).toBe("https://git.example.com/team/fwd.git");

  const taken = await request({ method: "POST", path: "/api/projects", headers: auth, body });
  expect(taken.status).toBe(409);
  const anonymous = await request({ method: "POST", path: "/api/projects", body });
  expect(anonymous.status).toBe(401);
  expect(anonymous.body).toContain('"code":"unauthorized"');
  const deleted = await request({ method: "DELETE", path: `/api/projects/${project?.id}`, headers: auth });
  expect([200, 204]).toContain(deleted.status ?? 0);
  expect((await projects()).items).toEqual([]);
});

test("signing in to the dashboard through the proxy: Secure cookies, redirects passed to the browser", async () => {
  await createUser(apiDeps.store, "fwd@example.test", "the right password");
  const page = await request({ path: "/login" });
  expect(page.status).toBe(200);
  const csrfCookie = header(page, "set-cookie").find((c) => c.startsWith("__Host-mv_csrf="));
  // Secure and __Host-: the api role learned from X-Forwarded-Proto that the browser is on HTTPS.
  expect(csrfCookie).toMatch(/; Secure$/);
  const csrf = /name="_csrf" value="([^"]*)"/.exec(page.body)?.[1] ?? never();
  const form = new URLSearchParams({
    _csrf: csrf,
    email: "fwd@example.test",
    password: "the right password",
    next: "/account",
  });
  const signedIn = await request({
    method: "POST",
    path: "/login",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: (csrfCookie ?? "").split(";")[0] ?? "",
      origin: `https://${DASHBOARD}`,
    },
    body: form.toString(),
  });
  expect(signedIn.status).toBe(303);
  expect(header(signedIn, "location")).toEqual(["/account"]);
  const session = header(signedIn, "set-cookie").find((c) => c.startsWith("__Host-mv_session="));
  expect(session).toMatch(/; Secure$/);

  const account = await request({
    path: "/account",
    headers: { cookie: (session ?? "").split(";")[0] ?? "" },
  });
  expect(account.status).toBe(200);
  expect(account.body).toContain("fwd@example.test");
});

test("an api role that does not answer: 502 from the proxy", async () => {
  await upstream.stop(true);
  const answer = await request({ path: "/api/health" });
  expect(answer.error).toBeNull();
  expect(answer.status).toBe(502);
  expect(answer.body).toContain("unreachable");
});

function never(): never {
  throw new Error("missing test setup");
}

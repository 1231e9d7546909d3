// Deployment protection through the real roles: the api (with the dashboard) and the proxy on real sockets,
// fetched as curl would (no browser): who gets in with a bypass token, a password or a member's sign-in, who is
// refused, that a revoked token is refused without any reconcile, and that nothing leaks through the memory cache.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createSession, createUser } from "../identity/accounts.ts";
import { cookieName, SESSION_COOKIE } from "../identity/authenticate.ts";
import type { Deployment, Project, User } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { captureTarget } from "../preview/previews.ts";
import { type Running, startRoles } from "../roles.ts";
import { apiClient, type Client, obj, testDeps } from "../testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../testing/functions.ts";
import { deploySite, eventually } from "../testing/sites.ts";
import { ACCESS_COOKIE } from "./protection.ts";

const SECRET_PAGE = "<h1>preview secret 7f3a</h1>";
const SECRET_ASSET = "console.log('asset secret 9c1e')";
const PRODUCTION_PAGE = "<h1>public production</h1>";
const DASHBOARD = "http://dashboard.example.test:9000";

let deps: Deps;
let roles: Running;
let proxyPort: number;
let apiOrigin: string;
let owner: User;
let api: Client;
let strangerApi: Client;
let stranger: User;

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,proxy",
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    DEPLOYMENT_PROTECTION_DEFAULT: "previews",
    DASHBOARD_URL: DASHBOARD,
    // Changes must reach the proxy through route announcements, not the periodic reload.
    PROXY_RECONCILE_SECONDS: "3600",
    LOGIN_MAX_FAILURES: "3",
    RATE_LIMIT_USER_WRITES_PER_MINUTE: "1000",
  });
  roles = await startRoles(deps);
  proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  apiOrigin = roles.urls.api?.replace("localhost", "127.0.0.1") ?? "";
  owner = await createUser(
    deps.store,
    `owner-${crypto.randomUUID().slice(0, 6)}@example.com`,
    "correct horse",
  );
  stranger = await createUser(
    deps.store,
    `other-${crypto.randomUUID().slice(0, 6)}@example.com`,
    "correct horse",
  );
  const { createApiToken } = await import("../identity/accounts.ts");
  api = apiClient(deps, (await createApiToken(deps.store, owner.id, "t")).token);
  strangerApi = apiClient(deps, (await createApiToken(deps.store, stranger.id, "t")).token);
});

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

/** A request to the proxy as curl sends it: the Host header names the site, redirects are not followed. */
function visit(
  host: string,
  path: string,
  init: { headers?: Record<string, string>; method?: string; body?: string } = {},
) {
  return fetch(`http://127.0.0.1:${proxyPort}${path}`, {
    method: init.method ?? "GET",
    headers: { host: `${host}:${proxyPort}`, ...init.headers },
    redirect: "manual",
    ...(init.body !== undefined && { body: init.body }),
  });
}

/** The dashboard (served by the api role) as `user`'s browser, or anonymously. */
async function dashboard(url: string, user: User | null): Promise<Response> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (user) {
    const { cookie } = await createSession(deps.store, user.id, 600);
    headers.cookie = `${cookieName(SESSION_COOKIE, new Request(apiOrigin))}=${cookie}`;
  }
  return fetch(`${apiOrigin}${target.pathname}${target.search}`, { headers, redirect: "manual" });
}

const cookieFrom = (response: Response): string | null => {
  const set = response.headers.getSetCookie().find((c) => c.startsWith(`${ACCESS_COOKIE}=`));
  return set ? (set.split(";")[0] ?? null) : null;
};

interface Site {
  project: Project;
  preview: Deployment;
  previewHost: string;
  productionHost: string;
}

async function protectedSite(): Promise<Site> {
  const name = `prot-${crypto.randomUUID().slice(0, 8)}`;
  const created = await api("POST", "/api/projects", { name, subDomain: name });
  expect(created.status).toBe(201);
  const project = (await deps.store.projects.find(String(obj(created.body).id))) as Project;
  await deploySite(deps, project, { "index.html": PRODUCTION_PAGE });
  const preview = await deploySite(
    deps,
    project,
    { "index.html": SECRET_PAGE, "app.js": SECRET_ASSET, "404.html": "<h1>secret 404</h1>" },
    { target: "preview", branch: "feature" },
  );
  return {
    project,
    preview,
    previewHost: `${name}--${deploymentHostId(preview.id)}.localhost`,
    productionHost: `${name}.localhost`,
  };
}

describe("the preview capture's own access (src/preview/previews.ts)", () => {
  test("opens the one host it was signed for, for the capture's time; never another deployment, never once expired", async () => {
    const site = await protectedSite();
    await api("PATCH", `/api/projects/${site.project.id}`, { protection: "all" });
    const project = (await deps.store.projects.find(site.project.id)) as Project;
    const target = captureTarget(deps, project, site.preview);
    expect(new URL(target.url).hostname).toBe(site.previewHost);
    expect(target.cookie?.startsWith(`${ACCESS_COOKIE}=`)).toBe(true);
    // Without it: sent to sign in (a 302 to the dashboard), as every visitor without access.
    await eventually(async () => expect((await visit(site.previewHost, "/")).status).toBe(302));
    const seen = await visit(site.previewHost, "/", { headers: { cookie: target.cookie ?? "" } });
    expect(seen.status).toBe(200);
    expect(await seen.text()).toContain("preview secret 7f3a");
    expect(seen.headers.get("x-robots-tag")).toBe("noindex");
    expect(seen.headers.getSetCookie()).toEqual([]);
    // Production is captured at its own address, with a cookie for that host only.
    const production = await deps.store.deployments.find(project.productionDeploymentId ?? "");
    const forProduction = captureTarget(deps, project, production as Deployment);
    expect(new URL(forProduction.url).hostname).toBe(site.productionHost);
    const crossed = await visit(site.productionHost, "/", { headers: { cookie: target.cookie ?? "" } });
    expect(crossed.status).toBe(302);
    expect(await crossed.text()).not.toContain("public production");
    // Another project's deployment: refused.
    const other = await protectedSite();
    const elsewhere = await visit(other.previewHost, "/", { headers: { cookie: target.cookie ?? "" } });
    expect(elsewhere.status).toBe(302);
    expect(await elsewhere.text()).not.toContain("preview secret");
    // The same grant, expired.
    const expired = deps.accessTokens.sign({
      type: "access",
      host: site.previewHost,
      project: project.id,
      grant: { kind: "preview", deploymentId: site.preview.id },
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    const late = await visit(site.previewHost, "/", { headers: { cookie: `${ACCESS_COOKIE}=${expired}` } });
    expect(late.status).toBe(302);
    // Unprotected: no cookie at all.
    await api("PATCH", `/api/projects/${site.project.id}`, { protection: "none" });
    const open = (await deps.store.projects.find(site.project.id)) as Project;
    expect(captureTarget(deps, open, site.preview).cookie).toBeNull();
  });
});

describe("the setting", () => {
  test("new projects get DEPLOYMENT_PROTECTION_DEFAULT; PATCH changes it, refuses bad values and others' projects", async () => {
    const { project } = await protectedSite();
    const shown = await api("GET", `/api/projects/${project.id}`);
    expect(obj(shown.body).protection).toBe("previews");
    expect(obj(shown.body).protectionPassword).toBe(false);
    const bad = await api("PATCH", `/api/projects/${project.id}`, { protection: "everyone" });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain("protection");
    const foreign = await strangerApi("PATCH", `/api/projects/${project.id}`, { protection: "none" });
    expect(foreign.status).toBe(404);
    // A refused setting sent along changes nothing, the protection included.
    const mixed = await api("PATCH", `/api/projects/${project.id}`, {
      protection: "none",
      subDomain: "Bad--Name",
    });
    expect(mixed.status).toBe(422);
    expect((await deps.store.projects.find(project.id))?.protection).toBe("previews");
    const changed = await api("PATCH", `/api/projects/${project.id}`, { protection: "all" });
    expect(changed.status).toBe(200);
    expect(obj(changed.body).protection).toBe("all");
    expect((await deps.store.projects.find(project.id))?.protection).toBe("all");
  });
});

describe("refusal without access", () => {
  test("a preview host answers nothing of the deployment, production stays public", async () => {
    const site = await protectedSite();
    for (const path of ["/", "/app.js", "/missing-page"]) {
      const response = await visit(site.previewHost, path);
      const body = await response.text();
      expect(response.status).toBe(302);
      expect(body).not.toContain("secret");
      expect(response.headers.get("x-robots-tag")).toBe("noindex");
      const location = new URL(response.headers.get("location") ?? "");
      expect(location.origin).toBe(DASHBOARD);
      expect(location.pathname).toBe("/protection/authorize");
      expect(location.searchParams.get("project")).toBe(site.project.id);
      expect(location.searchParams.get("return")).toBe(`http://${site.previewHost}:${proxyPort}${path}`);
    }
    const production = await visit(site.productionHost, "/");
    expect(production.status).toBe(200);
    expect(await production.text()).toBe(PRODUCTION_PAGE);
    expect(production.headers.get("x-robots-tag")).toBeNull();
  });

  test("`all` protects production too; `none` opens previews", async () => {
    const site = await protectedSite();
    await api("PATCH", `/api/projects/${site.project.id}`, { protection: "all" });
    await eventually(async () => expect((await visit(site.productionHost, "/")).status).toBe(302));
    await api("PATCH", `/api/projects/${site.project.id}`, { protection: "none" });
    await eventually(async () => expect(await (await visit(site.previewHost, "/")).text()).toBe(SECRET_PAGE));
  });
});

describe("bypass tokens for automation", () => {
  test("by header and by query; a wrong one is refused; a revoked one is refused at once", async () => {
    const site = await protectedSite();
    const created = await api("POST", `/api/projects/${site.project.id}/protection/bypass`, { name: "ci" });
    expect(created.status).toBe(201);
    const token = String(obj(created.body).token);
    const tokenId = String(obj(obj(created.body).record).id);
    // Another account can neither list nor create nor revoke the project's tokens.
    expect((await strangerApi("GET", `/api/projects/${site.project.id}/protection/bypass`)).status).toBe(404);
    expect(
      (await strangerApi("DELETE", `/api/projects/${site.project.id}/protection/bypass/${tokenId}`)).status,
    ).toBe(404);
    const listed = await api("GET", `/api/projects/${site.project.id}/protection/bypass`);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    await eventually(async () => {
      const byHeader = await visit(site.previewHost, "/", {
        headers: { "x-vercel-protection-bypass": token },
      });
      expect(byHeader.status).toBe(200);
      expect(await byHeader.text()).toBe(SECRET_PAGE);
      expect(byHeader.headers.get("x-robots-tag")).toBe("noindex");
      expect(byHeader.headers.get("cache-control")).not.toContain("public");
    });
    const byQuery = await visit(site.previewHost, `/app.js?x-vercel-protection-bypass=${token}`);
    expect(byQuery.status).toBe(200);
    expect(await byQuery.text()).toBe(SECRET_ASSET);
    const wrong = await visit(site.previewHost, "/", {
      headers: { "x-vercel-protection-bypass": `${token}x` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("secret");

    // With x-vercel-set-bypass-cookie the token becomes a cookie for this host only.
    const setting = await visit(
      site.previewHost,
      `/?x-vercel-protection-bypass=${token}&x-vercel-set-bypass-cookie=true`,
    );
    expect(setting.status).toBe(200);
    const cookie = cookieFrom(setting);
    expect(cookie).not.toBeNull();
    const set = setting.headers.getSetCookie().join("\n");
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Lax");
    expect(set).not.toContain("Domain=");
    expect(set).not.toContain("Secure");
    const withCookie = await visit(site.previewHost, "/app.js", { headers: { cookie: cookie ?? "" } });
    expect(await withCookie.text()).toBe(SECRET_ASSET);
    // The cookie is bound to its host: another deployment of the same project does not take it.
    const branchHost = `${site.project.subDomain}--git-feature.localhost`;
    expect((await visit(branchHost, "/", { headers: { cookie: cookie ?? "" } })).status).toBe(302);

    const revoked = await api("DELETE", `/api/projects/${site.project.id}/protection/bypass/${tokenId}`);
    expect(revoked.status).toBe(204);
    // No reconcile: the announcement alone reaches the proxy (PROXY_RECONCILE_SECONDS is an hour here).
    await eventually(async () => {
      const after = await visit(site.previewHost, "/", { headers: { "x-vercel-protection-bypass": token } });
      expect(after.status).toBe(401);
      expect(await after.text()).not.toContain("secret");
    }, 2000);
    const staleCookie = await visit(site.previewHost, "/app.js", { headers: { cookie: cookie ?? "" } });
    expect(staleCookie.status).toBe(302);
    expect(await staleCookie.text()).not.toContain("secret");
  });
});

describe("functions of a protected deployment", () => {
  test("run only with access, and never see the bypass token or the access cookie", async () => {
    const site = await protectedSite();
    await api("PATCH", `/api/projects/${site.project.id}`, { protection: "all" });
    await deployBuildOutput(deps, site.project, {
      "config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
      "functions/api/echo.func/.vc-config.json": vcConfig(),
      "functions/api/echo.func/index.mjs": `export function GET(request) {
        return Response.json({
          bypass: request.headers.get("x-vercel-protection-bypass"),
          cookie: request.headers.get("cookie"),
        });
      }`,
    });
    const { token } = obj(
      (await api("POST", `/api/projects/${site.project.id}/protection/bypass`, { name: "fn" })).body,
    );
    await eventually(async () => expect((await visit(site.productionHost, "/api/echo")).status).toBe(302));
    // The new token reaches the proxy with the route announcement: a moment after it is made.
    let cookie = "";
    await eventually(async () => {
      const withCookie = await visit(
        site.productionHost,
        `/?x-vercel-protection-bypass=${String(token)}&x-vercel-set-bypass-cookie=true`,
      );
      cookie = cookieFrom(withCookie) ?? "";
      expect(cookie).not.toBe("");
    });
    const seen = await visit(site.productionHost, "/api/echo", {
      headers: { "x-vercel-protection-bypass": String(token), cookie: `theme=dark; ${cookie}` },
    });
    expect(seen.status).toBe(200);
    expect(await seen.json()).toEqual({ bypass: null, cookie: "theme=dark" });
  }, 30_000);
});

describe("the memory cache", () => {
  test("warmed by an allowed visitor, it answers nothing to an anonymous one", async () => {
    const site = await protectedSite();
    const { token } = obj(
      (await api("POST", `/api/projects/${site.project.id}/protection/bypass`, { name: "warm" })).body,
    );
    await eventually(async () => {
      for (let i = 0; i < 3; i++) {
        for (const path of ["/", "/app.js", "/nope"]) {
          const warm = await visit(site.previewHost, path, {
            headers: { "x-vercel-protection-bypass": String(token) },
          });
          expect(warm.status).toBe(path === "/nope" ? 404 : 200);
          await warm.text();
        }
      }
    });
    for (const path of ["/", "/app.js", "/nope", "/index.html"]) {
      const variants: Record<string, string>[] = [
        {},
        { range: "bytes=0-5" },
        { "if-none-match": "*" },
        { "accept-encoding": "br" },
      ];
      for (const headers of variants) {
        const anonymous = await visit(site.previewHost, path, { headers });
        expect(anonymous.status).toBe(302);
        expect(await anonymous.text()).toBe("");
      }
      const head = await visit(site.previewHost, path, { method: "HEAD" });
      expect(head.status).toBe(302);
      expect(head.headers.get("content-length") ?? "0").toBe("0");
      expect(head.headers.get("etag")).toBeNull();
    }
  });
});

describe("a member's sign-in through the dashboard", () => {
  test("the owner gets a one-time hand-off and a host-only cookie; a replay and another account get nothing", async () => {
    const site = await protectedSite();
    const refused = await visit(site.previewHost, "/app.js?v=1");
    const authorize = refused.headers.get("location") ?? "";

    // Not signed in: the dashboard's sign-in page first, coming back here afterwards.
    const anonymous = await dashboard(authorize, null);
    expect(anonymous.status).toBe(303);
    const login = new URL(anonymous.headers.get("location") ?? "", apiOrigin);
    expect(login.pathname).toBe("/login");
    expect(login.searchParams.get("next")).toBe(`${new URL(authorize).pathname}${new URL(authorize).search}`);

    // Another account: refused, and no token anywhere in the answer.
    const other = await dashboard(authorize, stranger);
    expect(other.status).toBe(403);
    expect(other.headers.get("location")).toBeNull();
    expect(await other.text()).not.toContain("token=");

    const granted = await dashboard(authorize, owner);
    expect(granted.status).toBe(303);
    const handoff = new URL(granted.headers.get("location") ?? "");
    expect(handoff.host).toBe(`${site.previewHost}:${proxyPort}`);
    expect(handoff.pathname).toBe("/.well-known/minivercel/auth");
    const exchanged = await visit(site.previewHost, `${handoff.pathname}${handoff.search}`);
    expect(exchanged.status).toBe(302);
    expect(exchanged.headers.get("location")).toBe("/app.js?v=1");
    const cookie = cookieFrom(exchanged);
    expect(cookie).not.toBeNull();
    const page = await visit(site.previewHost, "/app.js?v=1", { headers: { cookie: cookie ?? "" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(SECRET_ASSET);
    expect(page.headers.get("x-robots-tag")).toBe("noindex");

    // The same hand-off again is refused: it works once.
    const replay = await visit(site.previewHost, `${handoff.pathname}${handoff.search}`);
    expect(replay.status).toBe(403);
    expect(cookieFrom(replay)).toBeNull();
    // A hand-off for this host is no good on another of the project's hosts.
    const again = new URL((await dashboard(authorize, owner)).headers.get("location") ?? "");
    const elsewhere = await visit(
      `${site.project.subDomain}--git-feature.localhost`,
      `${again.pathname}${again.search}`,
    );
    expect(elsewhere.status).toBe(403);
  });

  test("the dashboard hands tokens only to the project's own hosts", async () => {
    const site = await protectedSite();
    const evil = new URLSearchParams({ project: site.project.id, return: "http://evil.example/steal" });
    const response = await dashboard(`${DASHBOARD}/protection/authorize?${evil}`, owner);
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("a project password", () => {
  test("the form lets the right password in, throttles wrong guesses, refuses other origins", async () => {
    const site = await protectedSite();
    const short = await api("PUT", `/api/projects/${site.project.id}/protection/password`, {
      password: "short",
    });
    expect(short.status).toBe(422);
    expect(
      (
        await strangerApi("PUT", `/api/projects/${site.project.id}/protection/password`, {
          password: "let me in!",
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api("PUT", `/api/projects/${site.project.id}/protection/password`, {
          password: "open sesame 42",
        })
      ).status,
    ).toBe(204);
    const formPage = async () => {
      const page = await visit(site.previewHost, "/app.js");
      expect(page.status).toBe(401);
      const html = await page.text();
      expect(html).not.toContain("secret");
      return /name="form" value="([^"]+)"/.exec(html)?.[1] ?? "";
    };
    let form = "";
    await eventually(async () => {
      form = await formPage();
      expect(form).not.toBe("");
    });
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      visit(site.previewHost, "/.well-known/minivercel/password", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      });

    const foreign = await post(
      { form, next: "/app.js", password: "open sesame 42" },
      { origin: "http://evil.example" },
    );
    expect(foreign.status).toBe(403);
    expect(cookieFrom(foreign)).toBeNull();
    const forged = await post({ form: "forged.token", next: "/app.js", password: "open sesame 42" });
    expect(forged.status).toBe(403);
    expect(cookieFrom(forged)).toBeNull();

    const wrong = await post({ form, next: "/app.js", password: "guess" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("Wrong password");
    const right = await post({ form, next: "/app.js", password: "open sesame 42" });
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe("/app.js");
    const cookie = cookieFrom(right) ?? "";
    expect(await (await visit(site.previewHost, "/app.js", { headers: { cookie } })).text()).toBe(
      SECRET_ASSET,
    );
    // An open redirect through `next` is not possible.
    const away = await post({ form, next: "//evil.example/x", password: "open sesame 42" });
    expect(away.headers.get("location")).toBe("/");

    // A new password ends the cookies the old one gave.
    await api("PUT", `/api/projects/${site.project.id}/protection/password`, { password: "another one 43" });
    await eventually(async () =>
      expect((await visit(site.previewHost, "/app.js", { headers: { cookie } })).status).toBe(401),
    );

    // LOGIN_MAX_FAILURES=3: wrong guesses lock the form.
    for (let i = 0; i < 3; i++) await post({ form, next: "/", password: `guess ${i}` });
    const locked = await post({ form, next: "/", password: "another one 43" });
    expect(locked.status).toBe(429);
    expect(cookieFrom(locked)).toBeNull();
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

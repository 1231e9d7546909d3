// Cookie tossing in a real browser (Debian's chromium): a signed-in victim visits an attacker's site, whose script
// plants cookies for the parent domain (the attacker's own session and sign-in token) and posts the dashboard's
// sign-in form with the attacker's credentials (a login CSRF). Three setups:
//   https, sites under BASE_DOMAIN   __Host- cookies cannot be planted; the post is refused; the victim stays
//   http, SITES_DOMAIN apart          the browser refuses cookies for the dashboard's domain; the post is refused
//   http, sites under BASE_DOMAIN     the post is refused; a planted session makes the victim signed out at worst,
//                                     never signed in as the attacker (why docs/security.md asks for one of the above)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import type { Deps } from "../deps.ts";
import { createSession, createUser } from "../identity/accounts.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps } from "../testing/deps.ts";
import { freePort, type Pebble, startPebble } from "../testing/pebble.ts";
import { deploySite, siteProject } from "../testing/sites.ts";

const CHROMIUM = "/usr/bin/chromium";
const PASSWORD = "correct horse battery";
const REFUSED = "did not come from this site";

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'bash scripts/services.sh chromium'`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      // Every test name is this machine; Pebble's certificates are trusted for the https setup.
      "--host-resolver-rules=MAP * 127.0.0.1",
      "--ignore-certificate-errors",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

interface Stack {
  deps: Deps;
  roles: Running;
  dashboard: string;
  site: (subDomain: string) => string;
  stop(): Promise<void>;
}

/**
 * The attacker's site: plants `cookies` for `domain` and posts the sign-in form to `dashboard` with the
 * attacker's own credentials and sign-in token. Returns its URL.
 */
async function attackerSite(stack: Stack, cookies: string[], token: string): Promise<string> {
  const attacker = await createUser(
    stack.deps.store,
    `attacker-${crypto.randomUUID().slice(0, 6)}@example.com`,
    PASSWORD,
  );
  const project = await siteProject(stack.deps, attacker.id);
  const form = `<form id="f" method="POST" action="${stack.dashboard}/login">
    <input name="_csrf" value="${token}"><input name="email" value="${attacker.email}">
    <input name="password" value="${PASSWORD}"><input name="next" value="/"></form>`;
  const script = `for (const cookie of ${JSON.stringify(cookies)}) document.cookie = cookie;
document.getElementById("f").submit();`;
  await deploySite(stack.deps, project, {
    "index.html": `<!doctype html>${form}<script src="/toss.js"></script>`,
    "toss.js": script,
  });
  return stack.site(project.subDomain);
}

/** A victim signed in through the real sign-in form; returns their browser context. */
async function signedInVictim(stack: Stack, email: string): Promise<BrowserContext> {
  await createUser(stack.deps.store, email, PASSWORD);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.dashboard}/login`);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForURL(`${stack.dashboard}/`), page.click('button[type="submit"]')]);
  await page.close();
  expect(await whoIsSignedIn(context, stack.dashboard)).toBe(email);
  return context;
}

/** The victim opens the attacker's site; returns what the auto-posted sign-in answered. */
async function visit(
  context: BrowserContext,
  url: string,
  dashboard: string,
): Promise<{ status: number; text: string }> {
  const page = await context.newPage();
  const posted = page.waitForResponse(
    (r) => r.url() === `${dashboard}/login` && r.request().method() === "POST",
  );
  await page.goto(url);
  const response = await posted;
  const answer = { status: response.status(), text: await response.text() };
  await page.close();
  return answer;
}

async function whoIsSignedIn(context: BrowserContext, dashboard: string): Promise<string> {
  const page = await context.newPage();
  await page.goto(`${dashboard}/account`);
  const email = page.url().endsWith("/account") ? await page.textContent("main strong") : null;
  await page.close();
  return email ?? "(signed out)";
}

/** A sign-in token the attacker got for themselves from the dashboard's sign-in page, as a browser would. */
async function attackersToken(dashboard: string): Promise<{ name: string; value: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${dashboard}/login`);
  const cookie = (await context.cookies()).find((c) => c.name.endsWith("mv_csrf"));
  await context.close();
  if (!cookie) throw new Error("no sign-in token cookie");
  return { name: cookie.name, value: cookie.value };
}

async function plainStack(env: Record<string, string>, base: string, sites: string): Promise<Stack> {
  const deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,proxy",
    LISTEN_HOST: "127.0.0.1",
    ...env,
  });
  const roles = await startRoles(deps);
  const apiPort = new URL(roles.urls.api ?? "").port;
  const proxyPort = new URL((roles.urls.proxy ?? "").replace("<project>", "x")).port;
  return {
    deps,
    roles,
    dashboard: `http://dashboard.${base}:${apiPort}`,
    site: (sub) => `http://${sub}.${sites}:${proxyPort}/`,
    async stop() {
      await roles.stop(1000);
      await deps.close();
    },
  };
}

describe("https, sites under the dashboard's domain", () => {
  let pebble: Pebble;
  let stack: Stack;

  beforeAll(async () => {
    const httpPort = freePort();
    pebble = await startPebble({ httpPort });
    const deps = await testDeps({
      MINIVERCEL_ROLE: "api,proxy",
      BASE_DOMAIN: "toss.test",
      LISTEN_HOST: "127.0.0.1",
      PORT: "0",
      PROXY_PORT: String(httpPort),
      HTTPS_PORT: "0",
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_EMAIL: "ops@toss.test",
      ACME_CA_FILE: pebble.caFile,
    });
    const roles = await startRoles(deps);
    const httpsPort = new URL((roles.urls.https ?? "").replace("<project>", "x")).port;
    stack = {
      deps,
      roles,
      dashboard: `https://dashboard.toss.test:${httpsPort}`,
      site: (sub) => `https://${sub}.toss.test:${httpsPort}/`,
      async stop() {
        await roles.stop(1000);
        await deps.close();
      },
    };
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pebble?.stop();
  }, 30_000);

  test("the site can plant no __Host- cookie; the sign-in post is refused; the victim stays signed in", async () => {
    const victim = await signedInVictim(stack, "victim-https@example.com");
    const names = (await victim.cookies()).map((c) => c.name).sort();
    expect(names).toEqual(["__Host-mv_csrf", "__Host-mv_session"]);
    const token = await attackersToken(stack.dashboard);
    expect(token.name).toBe("__Host-mv_csrf");
    const attacker = await createUser(stack.deps.store, "attacker-session@example.com", PASSWORD);
    const session = (await createSession(stack.deps.store, attacker.id, 3600)).cookie;
    const url = await attackerSite(
      stack,
      [
        `__Host-mv_session=${session}; domain=toss.test; path=/; secure`,
        `__Host-mv_csrf=${token.value}; domain=toss.test; path=/; secure`,
        `mv_session=${session}; domain=toss.test; path=/; secure`,
        `mv_csrf=${token.value}; domain=toss.test; path=/; secure`,
      ],
      token.value,
    );
    const answer = await visit(victim, url, stack.dashboard);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain(REFUSED);
    expect(await whoIsSignedIn(victim, stack.dashboard)).toBe("victim-https@example.com");
    // The browser kept none of the planted __Host- cookies for the dashboard.
    const dashboardCookies = await victim.cookies(stack.dashboard);
    expect(dashboardCookies.find((c) => c.name === "__Host-mv_session")?.value).not.toBe(session);
    await victim.close();
  }, 120_000);
});

describe("http, sites on a domain of their own (SITES_DOMAIN)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await plainStack(
      { BASE_DOMAIN: "plat.test", SITES_DOMAIN: "plat-sites.test" },
      "plat.test",
      "plat-sites.test",
    );
  });
  afterAll(() => stack?.stop(), 30_000);

  test("the site can set no cookie for the dashboard's domain; the sign-in post is refused", async () => {
    const victim = await signedInVictim(stack, "victim-apart@example.com");
    const token = await attackersToken(stack.dashboard);
    const attacker = await createUser(stack.deps.store, "attacker-apart@example.com", PASSWORD);
    const session = (await createSession(stack.deps.store, attacker.id, 3600)).cookie;
    const url = await attackerSite(
      stack,
      [`mv_session=${session}; domain=plat.test; path=/`, `mv_csrf=${token.value}; domain=plat.test; path=/`],
      token.value,
    );
    const answer = await visit(victim, url, stack.dashboard);
    expect(answer.status).toBe(403);
    expect(await whoIsSignedIn(victim, stack.dashboard)).toBe("victim-apart@example.com");
    const planted = (await victim.cookies(stack.dashboard)).filter((c) => c.value === session);
    expect(planted).toEqual([]);
    await victim.close();
  }, 60_000);
});

describe("http, sites under the dashboard's domain (not recommended)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await plainStack({ BASE_DOMAIN: "same.test" }, "same.test", "same.test");
  });
  afterAll(() => stack?.stop(), 30_000);

  test("the sign-in post is refused, and a planted session never signs the victim in as the attacker", async () => {
    const victim = await signedInVictim(stack, "victim-same@example.com");
    const token = await attackersToken(stack.dashboard);
    const attacker = await createUser(stack.deps.store, "attacker-same@example.com", PASSWORD);
    const session = (await createSession(stack.deps.store, attacker.id, 3600)).cookie;
    const url = await attackerSite(
      stack,
      [`mv_session=${session}; domain=same.test; path=/`, `mv_csrf=${token.value}; domain=same.test; path=/`],
      token.value,
    );
    const answer = await visit(victim, url, stack.dashboard);
    expect(answer.status).toBe(403);
    expect(answer.text).toContain(REFUSED);
    // Both session cookies reach the dashboard now: neither is trusted, so the victim is signed out.
    expect(await whoIsSignedIn(victim, stack.dashboard)).toBe("(signed out)");
    await victim.close();
  }, 60_000);
});

// Deployment protection in a real browser (Debian's chromium): a visitor of a protected preview is sent to the
// dashboard's sign-in, comes back through the one-time hand-off with a cookie for that host only, and sees the
// deployment; another account signed into the dashboard gets no access; a project password opens it through the
// proxy's own form. The api and proxy roles run on real sockets; every host name resolves to this machine.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { createProject } from "../deploy/projects.ts";
import { setProtectionPassword } from "../deploy/protection.ts";
import type { Deps } from "../deps.ts";
import { createUser } from "../identity/accounts.ts";
import type { Project, User } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { ACCESS_COOKIE } from "../proxy/protection.ts";
import { type Running, startRoles } from "../roles.ts";
import { CHROMIUM, SHOTS, shot, watchProblems } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { freePort } from "../testing/services.ts";
import { deploySite } from "../testing/sites.ts";

const PASSWORD = "correct horse battery";
const SECRET = "preview secret e2e 51c0";
const BASE = "protect.test";

let browser: Browser;
let deps: Deps;
let roles: Running;
let dashboard: string;
let proxyPort: number;

beforeAll(async () => {
  const apiPort = freePort();
  dashboard = `http://dashboard.${BASE}:${apiPort}`;
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,proxy",
    LISTEN_HOST: "127.0.0.1",
    PORT: String(apiPort),
    PROXY_PORT: "0",
    BASE_DOMAIN: BASE,
    DEPLOYMENT_PROTECTION_DEFAULT: "previews",
    DASHBOARD_URL: dashboard,
  });
  roles = await startRoles(deps);
  proxyPort = Number(new URL((roles.urls.proxy ?? "").replace("<project>", "x")).port);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      // Every name this test uses (the dashboard's, the sites') is this machine.
      "--host-resolver-rules=MAP * 127.0.0.1",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

const newContext = (): Promise<BrowserContext> => browser.newContext();

async function account(): Promise<User> {
  return createUser(deps.store, `e2e-${crypto.randomUUID().slice(0, 8)}@example.com`, PASSWORD);
}

/** A project of `owner`'s, protected by default (previews), with a preview deployment; its preview URL. */
async function protectedPreview(owner: User): Promise<{ project: Project; url: string; host: string }> {
  const name = `e2e-${crypto.randomUUID().slice(0, 8)}`;
  const project = await createProject(deps.store, deps.config, owner.id, { name, subDomain: name });
  expect(project.protection).toBe("previews");
  await deploySite(deps, project, { "index.html": "<h1>production</h1>" });
  const preview = await deploySite(
    deps,
    project,
    { "index.html": `<h1>${SECRET}</h1>`, "docs/index.html": `<h1>${SECRET} docs</h1>` },
    { target: "preview", branch: "feature" },
  );
  const host = `${name}--${deploymentHostId(preview.id)}.${BASE}`;
  return { project, host, url: `http://${host}:${proxyPort}` };
}

async function signInOnForm(page: Page, user: User): Promise<void> {
  await page.waitForURL((url) => url.pathname === "/login");
  await page.fill("#login-form input[name=email]", user.email);
  await page.fill("#login-form input[name=password]", PASSWORD);
  await page.click("#login-form button[type=submit]");
}

describe("a member's sign-in", () => {
  test("the owner signs in on the dashboard and lands on the page asked for, with a cookie for that host only", async () => {
    const owner = await account();
    const { project, url, host } = await protectedPreview(owner);
    const ctx = await newContext();
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    await page.goto(`${url}/docs/`);
    await signInOnForm(page, owner);
    await page.waitForURL(`${url}/docs/`);
    expect(await page.textContent("h1")).toBe(`${SECRET} docs`);
    await shot(page, "protection-owner-signed-in");
    const cookies = await ctx.cookies();
    const access = cookies.filter((c) => c.name === ACCESS_COOKIE);
    expect(access).toHaveLength(1);
    expect(access[0]?.domain).toBe(host);
    expect(access[0]?.httpOnly).toBe(true);
    expect(access[0]?.sameSite).toBe("Lax");
    // Already signed in: a reload is served at once, and the dashboard is not asked again.
    const again = await page.goto(`${url}/`);
    expect(again?.status()).toBe(200);
    expect(await page.textContent("h1")).toBe(SECRET);
    expect(again?.headers()["x-robots-tag"]).toBe("noindex");
    // The same session manages protection in the project's settings: a bypass token is shown once.
    await page.goto(`${dashboard}/projects/${project.id}/settings#protection`);
    expect(await page.isChecked("#protection-form input[value=previews]")).toBe(true);
    await page.fill("#bypass-form input[name=tokenName]", "ci");
    await page.click("#bypass-form button[type=submit]");
    await page.waitForSelector("#bypass-token");
    expect(await page.inputValue("#bypass-token")).toStartWith("mvb_");
    // The whole section was swapped in: the new token is listed, with its revoke button.
    expect(await page.isVisible("#protection button[aria-label='Revoke ci']")).toBe(true);
    await page.locator("#protection").screenshot({ path: `${SHOTS}/protection-settings.png` });
    expect(problems).toEqual([]);
    await ctx.close();
  }, 30_000);

  test("another account signed into the dashboard gets no access cookie and sees nothing", async () => {
    const owner = await account();
    const stranger = await account();
    const { url } = await protectedPreview(owner);
    const ctx = await newContext();
    const page = await ctx.newPage();
    await page.goto(`${url}/`);
    await signInOnForm(page, stranger);
    await page.waitForURL((u) => u.pathname === "/protection/authorize");
    expect(await page.textContent("main")).toContain("does not have access");
    expect(await page.content()).not.toContain(SECRET);
    await shot(page, "protection-stranger-refused");
    expect((await ctx.cookies()).some((c) => c.name === ACCESS_COOKIE)).toBe(false);
    // Going back to the deployment sends it to the dashboard again; still no access.
    await page.goto(`${url}/`);
    await page.waitForURL((u) => u.pathname === "/protection/authorize");
    expect(await page.content()).not.toContain(SECRET);
    await ctx.close();
  }, 30_000);
});

describe("a project password", () => {
  test("the proxy's form refuses a wrong password and lets the right one in", async () => {
    const owner = await account();
    const { project, url } = await protectedPreview(owner);
    await setProtectionPassword(deps, owner.id, project.id, "open sesame 77");
    const ctx = await newContext();
    const page = await ctx.newPage();
    let first = await page.goto(`${url}/docs/`);
    // The route change reaches the proxy through its announcement; until then the sign-in redirect answers.
    for (let i = 0; i < 50 && first?.status() !== 401; i++) {
      await Bun.sleep(20);
      first = await page.goto(`${url}/docs/`);
    }
    expect(first?.status()).toBe(401);
    expect(await page.content()).not.toContain(SECRET);
    await page.fill("#protection-password-input", "not it");
    await page.click("#protection-password button[type=submit]");
    await page.waitForSelector("text=Wrong password");
    expect(await page.content()).not.toContain(SECRET);
    await shot(page, "protection-password-wrong");
    await page.fill("#protection-password-input", "open sesame 77");
    await page.click("#protection-password button[type=submit]");
    await page.waitForURL(`${url}/docs/`);
    expect(await page.textContent("h1")).toBe(`${SECRET} docs`);
    expect((await ctx.cookies()).some((c) => c.name === ACCESS_COOKIE)).toBe(true);
    await ctx.close();
  }, 30_000);
});

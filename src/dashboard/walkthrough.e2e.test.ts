// A new user's walk from nothing to a live URL, timed and with its clicks counted, in Debian's chromium against a
// fresh server: create the first account, import a git repository, create and deploy, open the site.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { launchChromium, watchProblems } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

let deps: Deps;
let roles: Running;
let browser: Browser;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "all" });
  roles = await startRoles(deps);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

test("from the first account to a live URL: four clicks, timed", async () => {
  const base = roles.urls.api ?? "";
  // A plain static site: nothing to install, nothing to configure.
  const repo = fixtureRepo({ "index.html": "<!doctype html><title>Hello</title><h1>Hello from git</h1>" });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = watchProblems(page);
  let clicks = 0;
  const click = async (p: Page, selector: string) => {
    clicks++;
    await p.click(selector);
  };
  const started = performance.now();
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    marks[name] = Math.round(performance.now() - started);
  };

  await page.goto(base);
  await page.fill("#f-email", "new@example.com");
  await page.fill("#f-password", "a long password");
  await click(page, "button[type=submit]");
  await page.waitForSelector("#import-gitUrl");
  mark("account");

  await page.fill("#import-gitUrl", repo.url);
  await click(page, "button:has-text('Continue')");
  await page.waitForSelector("#repo-checked");
  mark("repository checked");

  await click(page, "#create-button");
  await page.waitForSelector("#summary[data-status='READY']", { timeout: 60_000 });
  mark("deployed");

  const [site] = await Promise.all([
    page.context().waitForEvent("page"),
    click(page, "#aliases li[data-kind=production] a"),
  ]);
  await site.waitForSelector("h1");
  expect(await site.textContent("h1")).toBe("Hello from git");
  mark("live");

  console.log(`walk-through: ${clicks} clicks, ${JSON.stringify(marks)} ms`);
  expect(clicks).toBe(4);
  expect(marks.live ?? Number.POSITIVE_INFINITY).toBeLessThan(60_000);
  expect(problems).toEqual([]);
}, 120_000);

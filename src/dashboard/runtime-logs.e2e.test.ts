// Runtime logs on the deployment page in Debian's chromium: a real function's lines arrive live with their
// function and request id, hostile output stays text, following pauses and resumes, the time filter swaps in
// server-rendered lines; no console error, no failed request. Needs /usr/bin/chromium and the sandbox.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createSession, createUser } from "../identity/accounts.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget } from "../runtime/runtime.ts";
import { launchChromium, shot, watchProblems } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";

let deps: Deps;
let roles: Running;
let runtime: FunctionRuntime;
let browser: Browser;
let page: Page;
let problems: string[];
let target: FunctionTarget;
const dialogs: string[] = [];

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", MINIVERCEL_ROLE: "api", FUNCTION_START_TIMEOUT_SECONDS: "10" });
  roles = await startRoles(deps);
  runtime = createRuntime(deps);
  const base = roles.urls.api ?? "";
  const user = await createUser(deps.store, "rt@example.com", "a long password");
  const project = await createProject(deps.store, deps.config, user.id, { name: "Runtime" });
  const deployment = await deps.store.deployments.create({
    projectId: project.id,
    userId: user.id,
    status: "READY",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  const fn = await storeFunction(deps.artifacts, {
    "index.mjs": `export function GET(request) {
      const n = Number(new URL(request.url).searchParams.get("n") ?? 1);
      for (let i = 0; i < n; i++) console.log("tick", i);
      console.error("<img src=x onerror=\\"window.pwned=1\\"> \\u001b[31mred\\u001b[0m");
      return new Response("ok");
    }`,
  });
  await deps.artifacts.putManifest({
    version: 2,
    deploymentId: deployment.id,
    createdAt: new Date().toISOString(),
    files: {},
    functions: { "/api/hello": fn },
  });
  target = {
    deploymentId: deployment.id,
    projectId: project.id,
    environment: "production",
    deploymentUrl: "http://runtime.localhost:8001",
    path: "/api/hello",
    fn,
  };
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const { cookie } = await createSession(deps.store, user.id, 3600);
  await context.addCookies([{ name: "mv_session", value: cookie, url: base }]);
  page = await context.newPage();
  problems = watchProblems(page);
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${base}/deployments/${deployment.id}`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await roles?.stop();
  await deps?.close();
}, 30_000);

async function call(requestId: string, n = 1): Promise<void> {
  const outcome = await runtime.invoke(target, {
    request: new Request(`http://runtime.localhost/api/hello?n=${n}`),
    path: "/api/hello",
    search: `?n=${n}`,
    host: "runtime.localhost:8001",
    proto: "http",
    clientIp: null,
    requestId,
  });
  if (outcome.kind !== "response") throw new Error(outcome.reason);
  await outcome.response.text();
}

test("live lines with function and request id; hostile text stays text; follow, pause, filter", async () => {
  await page.waitForFunction(() => document.getElementById("runtime-state")?.textContent === "Live");
  await call("req-first");
  await page.waitForSelector("#runtime-log .line-stderr");
  const first = await page.$$eval("#runtime-log .line", (rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent)),
  );
  expect(first.map((cells) => cells.slice(1))).toEqual([
    ["/api/hello", "req-first", "tick 0"],
    ["/api/hello", "req-first", '<img src=x onerror="window.pwned=1"> red'],
  ]);
  // The time is the browser's local clock, to the millisecond.
  expect(first[0]?.[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
  expect(await page.$$eval("#runtime-log img", (imgs) => imgs.length)).toBe(0);
  expect(await page.$eval("#runtime-log .line-stderr .rt-text span", (el) => el.className)).toBe(
    "ansi-fg-red",
  );

  // A chatty request: the log follows; scrolling up pauses it, the button resumes it.
  await call("req-chatty", 200);
  await page.waitForFunction(() => document.querySelectorAll("#runtime-log .line").length >= 203);
  const atBottom = () =>
    page.$eval("#runtime-log", (log) => log.scrollHeight - log.scrollTop - log.clientHeight < 8);
  expect(await atBottom()).toBe(true);
  await page.$eval("#runtime-log", (log) => log.scrollTo(0, 0));
  await page.waitForSelector("#runtime-follow", { state: "visible" });
  await call("req-while-paused");
  await page.waitForFunction(() => document.querySelectorAll("#runtime-log .line").length >= 205);
  expect(await atBottom()).toBe(false);
  await page.click("#runtime-follow");
  expect(await atBottom()).toBe(true);
  await shot(page, "runtime-logs-live");

  // The last hour, rendered by the server: the same lines, in the same cells; the stream is closed.
  await page.selectOption("#runtime-range", "1h");
  await page.waitForFunction(() => !document.querySelector("#runtime-log[data-stream]"));
  await page.waitForFunction(() => document.querySelectorAll("#runtime-log .line").length === 200);
  await page.click("#runtime-log .runtime-older");
  await page.waitForFunction(() => document.querySelectorAll("#runtime-log .line").length === 205);
  expect(await page.$eval("#runtime-log .line .rt-time", (el) => el.textContent)).toMatch(
    /^\d\d:\d\d:\d\d\.\d{3}$/,
  );
  expect(await page.$$eval("#runtime-log .rt-req", (cells) => cells.at(-1)?.textContent)).toBe(
    "req-while-paused",
  );
  expect(await page.isHidden("input[name=from]")).toBe(true);
  await page.selectOption("#runtime-range", "custom");
  expect(await page.isVisible("input[name=from]")).toBe(true);
  // Prefilled with an hour ago; Chromium leaves the seconds out of the value when they are :00 (1 run in 60).
  expect(await page.inputValue("input[name=from]")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/);
  await page.click(".runtime-filter button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#runtime-log .line").length === 200);
  await shot(page, "runtime-logs-range");

  expect(await page.evaluate(() => "pwned" in window)).toBe(false);
  expect(dialogs).toEqual([]);
  expect(problems).toEqual([]);
}, 60_000);

// The dashboard's live log across a server restart, in Debian's chromium: the page reconnects by itself and
// continues after the last line it showed (no gap, no repeat), then shows the final status.

import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { chromium } from "playwright-core";
import { call, killLeftovers, lifecycleEnv, startServe, tokenFor } from "./testing/lifecycle.ts";
import { fixtureRepo } from "./testing/repos.ts";

const CHROMIUM = "/usr/bin/chromium";
afterAll(killLeftovers);

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const address = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Opens a build's live log in the browser, restarts the server mid-build (SIGTERM; the build finishes within
 * the grace period), runs `meanwhile` while it is down, and checks the page ends with every line once and READY.
 */
async function liveLogAcrossRestart(meanwhile: (port: number) => Promise<void>) {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'bash scripts/services.sh chromium'`);
  const port = await freePort();
  const env = lifecycleEnv({ PORT: String(port), BUILD_SANDBOX: "none", SHUTDOWN_TIMEOUT_SECONDS: "60" });
  const token = await tokenFor(env);
  let server = await startServe(env);
  const repo = fixtureRepo({
    "build.sh":
      "i=1; while [ $i -le 30 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done\n" +
      "mkdir -p dist && echo '<p>hi</p>' > dist/index.html\n",
  });
  const project = await call(server.api, token, "POST", "/api/projects", {
    name: "live",
    gitUrl: repo.url,
    installCommand: "true",
    buildCommand: "sh build.sh",
    outputDirectory: "dist",
  });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.api}/login`);
    await page.fill("input[name=email]", "ops@example.com");
    await page.fill("input[name=password]", "a long password");
    await page.click("button[type=submit]");
    await page.waitForURL(`${server.api}/`);

    const deployment = await call(server.api, token, "POST", "/api/deploy", { projectId: project.id });
    await page.goto(`${server.api}/deployments/${deployment.id}`);
    await page.waitForSelector("#log >> text=line-3", { timeout: 60_000 });

    server.proc.kill("SIGTERM");
    await page.waitForFunction(() =>
      /restarting|Reconnecting/.test(document.getElementById("log-state")?.textContent ?? ""),
    );
    expect(await server.proc.exited).toBe(0);
    await meanwhile(port);
    server = await startServe(env);

    await page.waitForFunction(() => document.getElementById("log")?.dataset.status === "READY", null, {
      timeout: 60_000,
    });
    const lines = await page.$$eval("#log .line", (els) => els.map((e) => e.textContent ?? ""));
    const order = lines.filter((l) => l.startsWith("line-")).map((l) => Number(l.slice(5)));
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  } finally {
    await browser.close();
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
}

test("the live log rides out a restart: every line once, in order, then READY", async () => {
  await liveLogAcrossRestart(async () => {});
}, 120_000);

test("a proxy in front answering 502 while the server restarts: the page keeps trying and catches up", async () => {
  // EventSource gives up for good on a 502 (readyState CLOSED); the page must reconnect on its own.
  await liveLogAcrossRestart(async (port) => {
    let refused = 0;
    const standIn = Bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: () => {
        refused++;
        return new Response("bad gateway", { status: 502 });
      },
    });
    const until = Date.now() + 20_000;
    while (refused === 0 && Date.now() < until) await Bun.sleep(100);
    expect(refused).toBeGreaterThan(0);
    await standIn.stop(true);
  });
}, 120_000);

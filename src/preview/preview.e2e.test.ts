// Both halves of a new project's first minutes in Debian's chromium, through the real roles (api, worker, proxy in
// one process): the new-project page reads a git repository's files and shows the detected settings to keep or
// edit; after its first build is READY, the worker captures the site's front page with a headless Chromium in the
// build sandbox, and the project's overview shows that image (its pixels are the site's, not a blank page).

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, ElementHandle, Page } from "playwright-core";
import { queueDeployment } from "../deploy/deploy.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { CHROMIUM, docShot, launchChromium, shot, watchProblems } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { previewOf } from "./previews.ts";

const BACKGROUND = { r: 51, g: 102, b: 204 };
const SITE = {
  "package.json": JSON.stringify({
    name: "preview-site",
    scripts: { build: "mkdir -p dist && cp index.html style.css dist/" },
  }),
  "index.html":
    '<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>Preview me</h1></body></html>',
  "style.css": `body { margin: 0; background: rgb(${BACKGROUND.r},${BACKGROUND.g},${BACKGROUND.b}); color: white; font: 64px sans-serif; }`,
};

let deps: Deps;
let roles: Running;
let browser: Browser;
let page: Page;
let problems: string[];
let base = "";

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "all", SCREENSHOT_BROWSER: CHROMIUM });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watchProblems(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

/** Decoded in the page: its size, and the share of pixels in the site's background colour (a blank page is white). */
async function pixelsOf(image: ElementHandle) {
  return image.evaluate(async (element, background) => {
    const img = element as HTMLImageElement;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    if (!context) return null;
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let site = 0;
    let light = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r = 0, g = 0, b = 0] = [data[i], data[i + 1], data[i + 2]];
      if (Math.abs(r - background.r) + Math.abs(g - background.g) + Math.abs(b - background.b) < 24) site++;
      if (r > 230 && g > 230 && b > 230) light++;
    }
    return { width: img.naturalWidth, height: img.naturalHeight, site: site / (data.length / 4), light };
  }, BACKGROUND);
}

/** The deployment's stored preview image, once the worker has captured it. */
async function captured(id: string) {
  let stored = await previewOf(deps.artifacts, id);
  for (let waited = 0; stored === null && waited < 90_000; waited += 500) {
    await Bun.sleep(500);
    stored = await previewOf(deps.artifacts, id);
  }
  return stored;
}

test("detected settings before the first build, then the site's preview image on the overview", async () => {
  const repo = fixtureRepo(SITE);
  await page.goto(base);
  await page.fill("#f-email", "preview@example.com");
  await page.fill("#f-password", "a long password");
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/`);

  // The repository's files, read in the sandbox: a build script and no known framework.
  await page.goto(`${base}/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
  expect(await page.textContent("#detected-framework")).toBe("Node.js (build script)");
  expect(await page.inputValue("#f-buildCommand")).toBe("npm run build");
  expect(await page.inputValue("#f-outputDirectory")).toBe("dist");
  expect(await page.inputValue("#f-installCommand")).toBe("npm install");
  await shot(page, "preview-01-detected");
  // Edited before the first deploy: nothing to install.
  await page.fill("#f-installCommand", "true");
  await page.fill("#f-name", "Preview");
  await page.click("#create-button");
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop() ?? "";
  await page.waitForSelector("#summary[data-status='READY']", { timeout: 120_000 });
  const deployment = await deps.store.deployments.find(id);
  const project = deployment ? await deps.store.projects.find(deployment.projectId) : null;
  expect(project?.installCommand).toBe("true");
  expect(project?.buildCommand).toBe("npm run build");

  // The worker captures it after READY; the page shows a placeholder until then.
  const stored = await captured(id);
  expect(stored).not.toBeNull();
  expect(stored?.size ?? 0).toBeGreaterThan(1000);

  await page.goto(`${base}/projects/${project?.id}`);
  const pixels = await pixelsOf(await page.waitForSelector("#production #preview-image"));
  expect(pixels).not.toBeNull();
  expect({ width: pixels?.width, height: pixels?.height }).toEqual({ width: 1280, height: 800 });
  expect(pixels?.site ?? 0).toBeGreaterThan(0.6);
  // The heading's white letters are drawn too: the fonts reached the sandbox.
  expect(pixels?.light ?? 0).toBeGreaterThan(500);
  await docShot(page, "production-preview");

  // The deployment's own page shows it too.
  await page.goto(`${base}/deployments/${id}`);
  await page.waitForSelector("#summary #preview-image");
  expect(problems).toEqual([]);

  // Protected entirely, a redeploy is still pictured: the site itself, not the sign-in page anyone else gets.
  if (!project) throw new Error("no project");
  await deps.store.protection.setMode(project.id, "all");
  const again = await queueDeployment(deps, project.userId, { projectId: project.id });
  let ready = await deps.store.deployments.find(again.id);
  for (let waited = 0; ready?.status !== "READY" && waited < 120_000; waited += 500) {
    if (ready?.status === "FAIL") throw new Error(`redeploy failed: ${ready.statusReason}`);
    await Bun.sleep(500);
    ready = await deps.store.deployments.find(again.id);
  }
  expect(await captured(again.id)).not.toBeNull();
  const proxyPort = /:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1];
  const anonymous = await fetch(`http://127.0.0.1:${proxyPort}/`, {
    headers: { host: `${new URL(productionUrl(project, deps.config)).hostname}:${proxyPort}` },
    redirect: "manual",
  });
  expect(anonymous.status).toBe(302);
  await page.goto(`${base}/deployments/${again.id}`);
  const locked = await pixelsOf(await page.waitForSelector("#summary #preview-image"));
  expect(locked?.site ?? 0).toBeGreaterThan(0.6);
  await docShot(page, "protected-preview");
  expect(problems).toEqual([]);
}, 400_000);

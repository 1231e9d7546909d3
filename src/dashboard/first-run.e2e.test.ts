// A new user's first minutes in Debian's chromium: create the first account, then deploy by dragging a folder
// onto the projects page (a real drop of a folder with subfolders, through Chromium's own drag and drop), by a
// .zip, by a new version on the project's page, and from a git URL with a framework preset. Every page is
// visited with a watch on the console and the network: no error, no failed request.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { launchChromium, shot, watchProblems } from "../testing/browser.ts";
import { tempDir, testDeps } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { makeZip } from "../testing/zip.ts";

const STEP = 120_000;
const EMAIL = "first@example.com";

let deps: Deps;
let roles: Running;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let base = "";
let siteDir = "";
let projectId = "";
let deploymentId = "";
const shots: Record<string, string> = {};

/** Drops files or folders from disk onto the drop zone, as a person dragging them from a file manager does. */
async function drop(p: Page, paths: string[]): Promise<void> {
  const target = p.locator("#drop-target");
  await target.scrollIntoViewIfNeeded();
  const box = await target.boundingBox();
  if (!box) throw new Error("the drop zone is not visible");
  const cdp = await p.context().newCDPSession(p);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"] as const) {
    await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
  }
  await cdp.detach();
}

function write(root: string, files: Record<string, string | Uint8Array>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** A site's answer, fetched by the browser (only it resolves <name>.localhost, as browsers do). */
async function visit(url: string): Promise<{ status: number; body: string }> {
  const site = await context.newPage();
  try {
    const response = await site.goto(url);
    return { status: response?.status() ?? 0, body: (await response?.text()) ?? "" };
  } finally {
    await site.close();
  }
}

beforeAll(async () => {
  // A 1 MB upload limit, so a too-large drop is cheap to make.
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "all", MAX_UPLOAD_MB: "1" });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  page = await context.newPage();
  // The one answer of 400 or more a test asks for: the not-found page.
  problems = watchProblems(page, (url, status) => status === 404 && url.endsWith("/no/such/page"));
  siteDir = write(join(tempDir(), "my-site"), {
    "index.html": '<!doctype html><link rel="stylesheet" href="/assets/app.css"><h1>Dropped site</h1>',
    "assets/app.css": "h1 { color: rebeccapurple }",
    "assets/img/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    "docs/guide/index.html": "<p>guide</p>",
    ".DS_Store": "clutter",
  });
});

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

describe("the dashboard's first run", () => {
  test(
    "the first account, then an empty projects page with the three ways in",
    async () => {
      await page.goto(base);
      expect(new URL(page.url()).pathname).toBe("/setup");
      expect(await page.title()).toBe("Create the first account · minivercel");
      await page.fill("#f-email", EMAIL);
      await page.fill("#f-password", "a long password");
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/`);
      expect(await page.title()).toBe("Projects · minivercel");
      await page.waitForSelector("text=deploy your first site");
      expect(await page.isVisible("#import-gitUrl")).toBe(true);
      expect(await page.isVisible("#drop-pick-folder")).toBe(true);
      expect(await page.isHidden("#drop-nojs")).toBe(true);

      // The command line card names this server, and its copy button copies the commands.
      const commands = `minivercel login ${base}\nminivercel deploy --prod`;
      expect(await page.textContent("#cli-commands")).toBe(commands);
      await page.click("button[data-copy='#cli-commands']");
      await page.waitForSelector("button[data-copy='#cli-commands']:has-text('Copied')");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(commands);
      shots.empty = await shot(page, "first-run-01-projects-empty");
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "a drop with no files, a file over the limit, or a zip it cannot read: an inline error, nothing created",
    async () => {
      const root = tempDir();
      const error = async () => (await page.waitForSelector("#drop-error:visible")).textContent();
      await drop(page, [write(join(root, "empty"), { ".DS_Store": "x", ".git/HEAD": "ref" })]);
      expect(await error()).toBe("There are no files to deploy in that drop (empty folders do not count).");

      await drop(page, [
        write(join(root, "big"), { "index.html": "hi", "big.bin": new Uint8Array(1_500_000) }),
      ]);
      expect(await error()).toBe("big.bin is 1.4 MB, over the limit of 1.0 MB per file.");

      const zip = join(root, "old.zip");
      writeFileSync(
        zip,
        makeZip([
          { name: "index.html", data: "hi" },
          { name: "a.txt", data: "a", method: 14 },
        ]),
      );
      await drop(page, [zip]);
      expect(await error()).toBe(
        "old.zip: a.txt is compressed with LZMA: only stored and deflated entries are supported.",
      );
      expect(await page.isHidden("#drop-form")).toBe(true);
      const owner = await deps.store.users.byEmail(EMAIL);
      expect((await deps.store.projects.list(owner?.id ?? "", { limit: 5, cursor: null })).items).toEqual([]);
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "dragging a folder with subfolders onto the page deploys it: READY, and its URL serves the files",
    async () => {
      await drop(page, [siteDir]);
      await page.waitForSelector("#drop-form:visible");
      expect(await page.textContent("#drop-summary")).toContain("4 files");
      expect(await page.textContent("#drop-notes")).toContain("1 system or version-control entries left out");
      // The project is named after the folder; the name can be changed before deploying.
      expect(await page.inputValue("#drop-name")).toBe("my-site");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("drop-name");
      await page.fill("#drop-name", "My dropped site");
      await page.click("#drop-deploy");

      await page.waitForSelector("#drop-result[data-status='READY']", { timeout: 30_000 });
      expect(await page.textContent("#drop-result")).toContain("4 files, all uploaded");
      shots.drop = await shot(page, "first-run-02-drop-ready");
      const url = (await page.getAttribute("#drop-url", "href")) ?? "";
      const production = (await page.getAttribute("#drop-production-url", "href")) ?? "";
      expect(url).toMatch(/^http:\/\/my-dropped-site--[0-9a-f]{12}\.localhost:\d+$/);

      // The deployment's own URL and production serve the dropped files, subfolders included.
      const site = await context.newPage();
      await site.goto(url);
      expect(await site.textContent("h1")).toBe("Dropped site");
      expect(await site.evaluate(() => getComputedStyle(document.querySelector("h1") as Element).color)).toBe(
        "rgb(102, 51, 153)",
      );
      await site.goto(production);
      expect(await site.textContent("h1")).toBe("Dropped site");
      await site.close();
      expect((await visit(`${url}/assets/img/logo.svg`)).body).toContain("<svg");
      expect((await visit(`${url}/docs/guide/`)).body).toBe("<p>guide</p>");
      // Left out of the upload (the site's fallback answers that path with its index page).
      expect((await visit(`${url}/.DS_Store`)).body).not.toContain("clutter");

      await page.click("#drop-open");
      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
      deploymentId = page.url().split("/").pop() ?? "";
      const deployment = await deps.store.deployments.find(deploymentId);
      expect(deployment?.status).toBe("READY");
      projectId = deployment?.projectId ?? "";
      expect((await deps.store.projects.find(projectId))?.productionDeploymentId).toBe(deploymentId);
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "a new version picked on the project's page uploads only the file that changed",
    async () => {
      await page.goto(`${base}/projects/${projectId}`);
      expect(await page.title()).toBe("My dropped site · Deployments · minivercel");
      write(siteDir, { "index.html": "<!doctype html><h1>Version two</h1>" });
      // The keyboard's way in: the folder picker (an <input webkitdirectory>).
      await page.setInputFiles("#drop-folder", siteDir);
      await page.waitForSelector("#drop-form:visible");
      expect(await page.isHidden("#drop-name")).toBe(true);
      await page.click("#drop-deploy");
      await page.waitForSelector("#drop-result[data-status='READY']", { timeout: 30_000 });
      expect(await page.textContent("#drop-result")).toContain("1 of 4 distinct files uploaded");
      const production = (await page.getAttribute("#drop-production-url", "href")) ?? "";
      expect((await visit(production)).body).toContain("Version two");
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "a .zip of a built site, chosen with the file picker, deploys its contents",
    async () => {
      await page.goto(`${base}/projects/new`);
      const zip = join(tempDir(), "Zipped Site.zip");
      writeFileSync(
        zip,
        makeZip([
          { name: "out/index.html", data: "<h1>From a zip</h1>", method: 0 },
          { name: "out/css/site.css", data: "body { margin: 0 }".repeat(50) },
        ]),
      );
      await page.setInputFiles("#drop-files", zip);
      await page.waitForSelector("#drop-form:visible");
      expect(await page.inputValue("#drop-name")).toBe("Zipped Site");
      expect(await page.textContent("#drop-summary")).toContain("2 files");
      await page.click("#drop-deploy");
      await page.waitForSelector("#drop-result[data-status='READY']", { timeout: 30_000 });
      const url = (await page.getAttribute("#drop-url", "href")) ?? "";
      expect((await visit(url)).body).toBe("<h1>From a zip</h1>");
      expect((await visit(`${url}/css/site.css`)).body).toStartWith("body { margin: 0 }");
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "a dropped project with api/ functions is built on the server: its page streams the build, then it serves them",
    async () => {
      await page.goto(`${base}/projects/new`);
      const zip = join(tempDir(), "With Functions.zip");
      writeFileSync(
        zip,
        makeZip([
          { name: "index.html", data: "<h1>Home</h1>" },
          {
            name: "api/hello.ts",
            data: "export function GET(request: Request) { return Response.json({ hello: new URL(request.url).pathname }); }",
          },
        ]),
      );
      await page.setInputFiles("#drop-files", zip);
      await page.waitForSelector("#drop-form:visible");
      await page.click("#drop-deploy");
      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/, { timeout: 30_000 });
      await page.waitForSelector("#summary[data-status='READY']", { timeout: 60_000 });
      expect(await page.textContent("#log")).toContain("Function /api/hello <- api/hello.ts");
      const url = (await page.getAttribute("#summary a.external", "href")) ?? "";
      const fn = await visit(`${url}/api/hello`);
      expect(fn.body).toBe(JSON.stringify({ hello: "/api/hello" }));
      // Its source is not a file of the site: with the extension, the path runs the function too (as on Vercel).
      expect((await visit(`${url}/api/hello.ts`)).body).toBe(JSON.stringify({ hello: "/api/hello.ts" }));
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "importing a git URL: a framework preset fills the build settings, editable; creating starts the build",
    async () => {
      const repo = fixtureRepo({ "index.html": "<h1>From git</h1>" });
      await page.goto(`${base}/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
      expect(await page.inputValue("#f-gitUrl")).toBe(repo.url);
      expect(await page.textContent("#f-framework-hint")).toContain("Detected when the build runs");
      await page.selectOption("#f-framework", "vite");
      expect(await page.inputValue("#f-buildCommand")).toBe("npm run build");
      expect(await page.inputValue("#f-outputDirectory")).toBe("dist");
      await page.selectOption("#f-framework", "nextjs");
      expect(await page.inputValue("#f-outputDirectory")).toBe("out");
      expect(await page.textContent("#f-framework-hint")).toContain("output: 'export'");
      // A value the user typed stays when the preset changes.
      await page.fill("#f-buildCommand", "make site");
      await page.selectOption("#f-framework", "astro");
      expect(await page.inputValue("#f-buildCommand")).toBe("make site");
      await page.fill("#f-buildCommand", "");
      await page.selectOption("#f-framework", "static");
      expect(await page.inputValue("#f-outputDirectory")).toBe("");
      shots.gitImport = await shot(page, "first-run-03-git-import");

      await page.click("#create-button");
      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
      await page.waitForSelector("#summary[data-status='READY']", { timeout: 90_000 });
      const id = page.url().split("/").pop() ?? "";
      const project = await deps.store.projects.find(
        (await deps.store.deployments.find(id))?.projectId ?? "",
      );
      expect(project).toMatchObject({ buildCommand: null, outputDirectory: null });
      expect(problems).toEqual([]);
    },
    STEP,
  );

  test(
    "every page has a title naming it and the icons, and shows no console error or failed request",
    async () => {
      const name = "My dropped site";
      const pages: [string, string][] = [
        [`${base}/`, "Projects · minivercel"],
        [`${base}/projects/new`, "New project · minivercel"],
        [`${base}/projects/${projectId}`, `${name} · Deployments · minivercel`],
        [`${base}/projects/${projectId}/settings`, `${name} · Settings · minivercel`],
        [
          `${base}/deployments/${deploymentId}`,
          `Deployment ${deploymentId.slice(0, 8)} · ${name} · minivercel`,
        ],
        [`${base}/account`, "Account · minivercel"],
        [`${base}/no/such/page`, "Not found · minivercel"],
      ];
      for (const [url, title] of pages) {
        await page.goto(url);
        await page.waitForLoadState("networkidle");
        expect({ url, title: await page.title() }).toEqual({ url, title });
      }
      // The pages with the ways in fit a 375 px wide phone.
      const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
      await phone.addCookies(await context.cookies());
      const small = await phone.newPage();
      const phoneProblems = watchProblems(small);
      for (const url of [`${base}/projects/new`, `${base}/projects/${projectId}`]) {
        await small.goto(url);
        const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect({ url, overflow }).toEqual({ url, overflow: 0 });
      }
      shots.phone = await shot(small, "first-run-04-phone-project-drop");
      await phone.close();
      expect(phoneProblems).toEqual([]);

      // Signed out: the sign-in page, and setup (done) sending there.
      const anonymous = await browser.newPage();
      const anonymousProblems = watchProblems(anonymous);
      await anonymous.goto(`${base}/setup`);
      expect(new URL(anonymous.url()).pathname).toBe("/login");
      expect(await anonymous.title()).toBe("Sign in · minivercel");
      await anonymous.waitForLoadState("networkidle");
      await anonymous.close();
      expect(anonymousProblems).toEqual([]);

      // The icons: linked from every page, served with a long cache; /favicon.ico, which browsers ask for.
      const icons = await page.$$eval("link[rel~='icon'], link[rel='apple-touch-icon']", (links) =>
        links.map((l) => l.getAttribute("href") ?? ""),
      );
      expect(icons).toHaveLength(3);
      for (const href of icons) {
        const response = await page.request.get(`${base}${href}`);
        expect(response.status()).toBe(200);
        expect(response.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
      }
      const favicon = await page.request.get(`${base}/favicon.ico`);
      expect(favicon.status()).toBe(200);
      expect(favicon.headers()["content-type"]).toBe("image/x-icon");
      expect(problems).toEqual([]);
      console.log(`screenshots: ${JSON.stringify(shots)}`);
    },
    STEP,
  );
});

// The dashboard end to end in Debian's chromium: setup, create, deploy with a live log, escaping, CSRF, delete.
// Needs /usr/bin/chromium (scripts/services.sh chromium) and the build sandbox; screenshots go to test-artifacts/.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { setEnvVar } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { launchChromium, shot } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 375, height: 812 };
const STEP = 120_000;

// The build prints hostile text first, then lines slowly, so the log is visibly live before READY.
const BUILD = [
  "printf '\\033[31mred text\\033[0m <b>bold</b> <script>window.pwned=1</script> &amp; done\\n'",
  "for i in 1 2 3 4 5; do echo line $i; sleep 0.5; done",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'mkdir -p dist && echo "<h1>hi ${SITE_VERSION:-1}</h1>" > dist/index.html',
].join("; ");

let deps: Deps;
let roles: Running;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
let base = "";
let projectUrl = "";
let deploymentId = "";
const dialogs: string[] = [];

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "all" });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  browser = await launchChromium();
  desktop = await browser.newContext({ viewport: DESKTOP });
  page = await desktop.newPage();
  // Any alert() would mean log text or a project name ran as script.
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

describe("dashboard in a browser", () => {
  test(
    "first-run setup creates the account and signs in",
    async () => {
      await page.goto(base);
      expect(new URL(page.url()).pathname).toBe("/setup");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-email");
      await shot(page, "01-setup");
      await page.fill("#f-email", "owner@example.com");
      await page.fill("#f-password", "a long password");
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/`);
      await page.waitForSelector("text=No projects yet");
      // The first Tab reaches the skip link: the page is usable by keyboard from the top.
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.className)).toBe("skip-link");
      await shot(page, "02-projects-empty");
    },
    STEP,
  );

  test(
    "importing a git repository shows validation errors inline, then creates the project and deploys it",
    async () => {
      const repo = fixtureRepo({
        "package.json": JSON.stringify({ name: "e2e-site", scripts: { build: BUILD } }),
      });
      // The empty projects page's import card leads to the full form, the URL and a name filled in.
      await page.fill("#import-gitUrl", "ftp://example.com/nope.git");
      await page.click("button:has-text('Continue')");
      await page.waitForURL(/\/projects\/new\?gitUrl=/);
      expect(await page.inputValue("#f-name")).toBe("nope");
      await page.fill("#f-name", "<i>E2E</i> Site");
      await page.fill("#f-installCommand", "true");
      await page.fill("#f-outputDirectory", "dist");
      await page.click("#create-button");
      const error = await page.waitForSelector("#f-gitUrl-error");
      expect(await error.textContent()).toContain("Git repository URL must be");
      // htmx swapped the form in place: still on the same page, with the user's values.
      expect(new URL(page.url()).pathname).toBe("/projects/new");
      expect(await page.inputValue("#f-installCommand")).toBe("true");
      await shot(page, "03-new-project-error");

      // Creating starts the first build and shows its live log.
      await page.fill("#f-gitUrl", repo.url);
      await page.click("#create-button");
      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
      deploymentId = page.url().split("/").pop() ?? "";
    },
    STEP,
  );

  test(
    "the first deployment streams the build log live, before the deployment is READY",
    async () => {
      await page.waitForSelector("#log .line:has-text('line 1')", { timeout: 60_000 });
      const deployment = await deps.store.deployments.find(deploymentId);
      expect(deployment?.status).toBe("IN_PROGRESS");
      projectUrl = `${base}/projects/${deployment?.projectId}`;
      await shot(page, "05-deployment-building");

      await page.waitForSelector("#summary[data-status='READY']", { timeout: 60_000 });
      await page.waitForSelector("#log .line:has-text('line 5')");
      expect(await page.textContent("#summary")).toContain("Current production");
      expect(await page.$("#cancel-button")).toBeNull();
      await shot(page, "06-deployment-ready");

      const download = await page.request.get(`${base}/deployments/${deploymentId}/log.txt`);
      expect(download.headers()["content-disposition"]).toStartWith("attachment;");
      const raw = await download.text();
      expect(raw).toContain("\u001b[31mred text\u001b[0m <b>bold</b>");
      expect(raw).toContain("line 5");

      await page.goto(projectUrl);
      // The name is text, not markup.
      expect(await page.textContent("h1")).toBe("<i>E2E</i> Site");
      expect(await page.$$("h1 i")).toHaveLength(0);
      await shot(page, "04-project");
    },
    STEP,
  );

  test(
    "the site is served through the proxy; promote and roll back move production at once",
    async () => {
      const projectId = projectUrl.split("/").pop() ?? "";
      const project = await deps.store.projects.find(projectId);
      const port = /:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1] ?? "";
      const site = `http://${project?.subDomain}.localhost:${port}/`;
      const production = async () => {
        await page.goto(site);
        return (await page.textContent("h1")) ?? "";
      };
      expect(await production()).toBe("hi 1");
      await shot(page, "07-site-v1");

      // A second deployment with a new variable: it becomes production when READY.
      await setEnvVar(deps.store, deps.sealer, project?.userId ?? "", projectId, "SITE_VERSION", "2");
      await page.goto(projectUrl);
      await page.click("#deploy-button");
      await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
      const second = page.url();
      await page.waitForSelector("#summary[data-status='READY']", { timeout: 60_000 });
      expect(await production()).toBe("hi 2");

      // Roll back from the earlier deployment's menu, through its confirmation; the result offers an Undo.
      await page.goto(projectUrl);
      const first = `#row-${deploymentId}`;
      await page.click(`${first} summary`);
      await page.click(`${first} [data-action=rollback]`);
      await page.click("#confirm-button");
      await page.waitForSelector("#promoted");
      await shot(page, "08-project-rollback");
      expect(await production()).toBe("hi 1");

      await page.goto(second);
      await page.click("#promote-button");
      await page.click("#confirm-button");
      await page.waitForSelector("#promoted");
      expect(await production()).toBe("hi 2");
      await page.goto(second);
    },
    STEP,
  );

  test(
    "log text with <script>, HTML and ANSI colours renders as text, coloured",
    async () => {
      const text = (await page.textContent("#log")) ?? "";
      expect(text).toContain("red text <b>bold</b> <script>window.pwned=1</script> &amp; done");
      expect(text).not.toContain("\u001b");
      expect(await page.$$("#log script, #log b, #log i")).toHaveLength(0);
      const red = await page.$$eval("#log span.ansi-fg-red", (spans) => spans.map((s) => s.textContent));
      expect(red).toEqual(["red text"]);
      expect(
        await page.evaluate(
          () => getComputedStyle(document.querySelector("#log span.ansi-fg-red") as Element).color,
        ),
      ).toBe("rgb(248, 113, 113)");
      expect(await page.evaluate(() => "pwned" in window)).toBe(false);
      expect(dialogs).toEqual([]);
    },
    STEP,
  );

  test(
    "the log follows new lines, pauses when scrolled up, resumes at the bottom; status updates live",
    async () => {
      // A deployment driven by the test itself: its lines and status reach the page over the same SSE path.
      const projectId = projectUrl.split("/").pop() ?? "";
      const owner = await deps.store.users.byEmail("owner@example.com");
      const d = await deps.store.deployments.create({
        projectId,
        userId: owner?.id ?? "",
        status: "IN_PROGRESS",
        target: "preview",
        branch: "feature",
        commitSha: null,
      });
      await deps.store.deployments.heartbeat(d.id, new Date().toISOString());
      let seq = 0;
      const print = async (n: number) => {
        const lines = Array.from({ length: n }, () => ({
          deploymentId: d.id,
          seq: ++seq,
          stream: "stdout" as const,
          text: `output ${seq}`,
          at: new Date().toISOString(),
        }));
        await deps.logs.append(lines);
        for (const line of lines) deps.live.publish(d.id, { kind: "log", line });
      };
      const log = page.locator("#log");
      const atBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 8);

      await page.goto(`${base}/deployments/${d.id}`);
      await page.waitForSelector("#log-state:has-text('Live')");
      await print(200);
      await page.waitForSelector("#log .line:has-text('output 200')");
      expect(await atBottom()).toBe(true);
      expect(await page.isHidden("#log-follow")).toBe(true);

      await log.hover();
      await page.mouse.wheel(0, -3000);
      await page.waitForSelector("#log-follow", { state: "visible" });
      const pausedAt = await log.evaluate((el) => el.scrollTop);
      await print(50);
      await page.waitForSelector("#log .line:has-text('output 250')");
      expect(await log.evaluate((el) => el.scrollTop)).toBe(pausedAt);
      await shot(page, "07-log-paused");

      await page.click("#log-follow");
      expect(await atBottom()).toBe(true);
      await print(50);
      await page.waitForSelector("#log .line:has-text('output 300')");
      expect(await atBottom()).toBe(true);

      const failed = await deps.store.deployments.transition(d.id, "FAIL", "build failed with exit code 1");
      if (failed) deps.live.publish(d.id, { kind: "status", deployment: failed });
      await page.waitForSelector("#summary[data-status='FAIL']", { timeout: 5_000 });
      expect(await page.textContent("#summary")).toContain("build failed with exit code 1");
    },
    STEP,
  );

  test(
    "a state-changing request without the CSRF token is refused",
    async () => {
      const result = await page.evaluate(async () => {
        const form = { "content-type": "application/x-www-form-urlencoded" };
        const dashboard = await fetch("/projects", {
          method: "POST",
          headers: form,
          body: "name=forged&gitUrl=https%3A%2F%2Fexample.com%2Fx.git",
        });
        const api = await fetch("/api/projects", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "forged" }),
        });
        return [dashboard.status, api.status];
      });
      expect(result).toEqual([403, 403]);
      await page.goto(base);
      expect(await page.textContent("main")).not.toContain("forged");
      await shot(page, "08-projects");
    },
    STEP,
  );

  test(
    "settings, environment variables and the account page",
    async () => {
      await page.goto(`${projectUrl}/settings`);
      await page.fill("#env-form #f-key", "API_URL");
      await page.fill("#env-form #f-value", "https://secret.example");
      await page.click("#env-form button[type=submit]");
      await page.waitForSelector("#env .list-row:has-text('API_URL')");
      expect(await page.content()).not.toContain("secret.example");
      // Environments: with neither ticked, the error shows inline and what was typed stays.
      await page.fill("#env-form #f-key", "DATABASE_URL");
      await page.fill("#env-form #f-value", "postgres://production.example");
      await page.uncheck("#env-form input[name=production]");
      await page.uncheck("#env-form input[name=preview]");
      await page.click("#env-form button[type=submit]");
      await page.waitForSelector("#f-target-error");
      expect(await page.inputValue("#env-form #f-key")).toBe("DATABASE_URL");
      // A value for production, then another for previews.
      await page.fill("#env-form #f-value", "postgres://production.example");
      await page.check("#env-form input[name=production]");
      await page.click("#env-form button[type=submit]");
      await page.waitForSelector("#env .list-row:has-text('DATABASE_URL')");
      await page.fill("#env-form #f-key", "DATABASE_URL");
      await page.fill("#env-form #f-value", "postgres://preview.example");
      await page.uncheck("#env-form input[name=production]");
      await page.check("#env-form input[name=preview]");
      await page.click("#env-form button[type=submit]");
      await page.waitForSelector("#env .list-row:has-text('DATABASE_URL') .tag-preview");
      const tags = await page
        .locator("#env .list-row")
        .evaluateAll((items) =>
          items.map((item) => [
            item.querySelector(".mono")?.textContent,
            [...item.querySelectorAll(".tag")].map((tag) => tag.textContent).join(" "),
          ]),
        );
      expect(tags).toEqual([
        ["API_URL", "Production Preview"],
        ["DATABASE_URL", "Production"],
        ["DATABASE_URL", "Preview"],
        ["SITE_VERSION", "Production Preview"],
      ]);
      expect(await page.content()).not.toContain("postgres://");
      await shot(page, "09-settings");

      await page.goto(`${base}/account`);
      await page.fill("#f-name", "ci");
      await page.click("button:has-text('Create token')");
      const token = await page.inputValue("#new-token");
      expect(token).toMatch(/^mv_/);
      await shot(page, "10-account");
    },
    STEP,
  );

  test(
    "every page fits a 375 px wide phone (in the dark theme)",
    async () => {
      const phone = await browser.newContext({
        viewport: PHONE,
        colorScheme: "dark",
        storageState: await desktop.storageState(),
      });
      const p = await phone.newPage();
      const pages: [string, string][] = [
        ["11-phone-projects", base],
        ["12-phone-project", projectUrl],
        ["13-phone-deployment", `${base}/deployments/${deploymentId}`],
        ["14-phone-settings", `${projectUrl}/settings`],
        ["15-phone-account", `${base}/account`],
      ];
      for (const [name, url] of pages) {
        await p.goto(url);
        if (name.includes("deployment")) await p.waitForSelector("#log .line:has-text('line 5')");
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect({ name, overflow }).toEqual({ name, overflow: 0 });
        await shot(p, name);
      }
      await phone.close();
    },
    STEP,
  );

  test(
    "deleting the project asks for its name first",
    async () => {
      await page.goto(`${projectUrl}/settings`);
      await page.fill("#f-confirm", "wrong name");
      await page.click("#delete-button");
      await page.waitForSelector("#f-confirm-error");
      await shot(page, "16-delete-confirm");
      await page.fill("#f-confirm", "<i>E2E</i> Site");
      await page.click("#delete-button");
      await page.waitForURL(`${base}/`);
      await page.waitForSelector("text=No projects yet");
      expect(await deps.store.deployments.find(deploymentId)).toBeNull();
      await shot(page, "17-projects-after-delete");

      await page.click("button:has-text('Sign out')");
      await page.waitForURL(/\/login$/);
      await shot(page, "18-login");
    },
    STEP,
  );
});

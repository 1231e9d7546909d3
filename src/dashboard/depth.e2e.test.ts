// The dashboard's depth in Debian's chromium, with real builds of a real git repository: a READY production
// deployment, a branch preview, a failed build, a building one and a rolled-back production. Every page is
// walked on a desktop and a phone with no console error; screenshots go to docs/images/ for reviewers.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { previewOf } from "../preview/previews.ts";
import { type Running, startRoles } from "../roles.ts";
import { CHROMIUM, docShot, launchChromium, watchProblems } from "../testing/browser.ts";
import { testDeps } from "../testing/deps.ts";
import { type FixtureRepo, fixtureRepo } from "../testing/repos.ts";

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };
const STEP = 180_000;
const EMAIL = "owner@example.com";

const site = (title: string) =>
  JSON.stringify({ name: "depth-site", scripts: { build: `sh build.sh ${title}` } });
// A page with a look of its own, for the production card's preview image.
const BUILD_SH = `mkdir -p dist
cat > dist/index.html <<EOF
<body style="margin:0;padding:48px;font:64px sans-serif;color:#fff;background:linear-gradient(135deg,#0a7cff,#7b2ff7)">
<h1>$1</h1><p style="font-size:28px">A site deployed by minivercel</p></body>
EOF
`;

// Progress and a warning on stderr (not errors), then the error, then the exit.
const FAILING = [
  "echo 'npm WARN deprecated left-pad@1.0.0' >&2",
  "echo 'compiling 3 files' >&2",
  "echo 'Error: cannot find module <./missing>' >&2",
  "exit 1",
].join("; ");

let deps: Deps;
let roles: Running;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let base = "";
let repo: FixtureRepo;
let projectId = "";
/** The deployments the walk makes, by what they are. */
const made = {} as Record<"first" | "preview" | "failed" | "second" | "building", Deployment>;

beforeAll(async () => {
  // Preview images on: the production card shows the site's front page as the worker captured it.
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "all", SCREENSHOT_BROWSER: CHROMIUM });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  browser = await launchChromium();
  context = await browser.newContext({ viewport: DESKTOP });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  page = await context.newPage();
  // A filter with a wrong value, a wrong current password and the not-found page are the answers of 400 or more
  // the walk asks for.
  problems = watchProblems(
    page,
    (url, status) =>
      (status === 400 && url.includes("status=DONE")) ||
      (status === 422 && url.endsWith("/account/password")) ||
      (status === 404 && url.endsWith("/no/such/page")),
  );
  repo = fixtureRepo({ "package.json": site("first"), "build.sh": BUILD_SH });
  repo.commit({ "package.json": site("home") }, "main", "Add the <b>home</b> page");
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await roles?.stop();
  await deps?.close();
});

/** Waits on a deployment's page until it finishes; returns it as stored. */
async function finished(status: "READY" | "FAIL"): Promise<Deployment> {
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop() ?? "";
  await page.waitForSelector(`#summary[data-status='${status}']`, { timeout: 90_000 });
  const d = await deps.store.deployments.find(id);
  if (!d) throw new Error(`deployment ${id} is gone`);
  return d;
}

async function deployBranch(branch: string): Promise<void> {
  await page.goto(`${base}/projects/${projectId}`);
  await page.fill("#f-branch", branch);
  await page.click("#deploy-button");
}

describe("dashboard depth", () => {
  test(
    "an account, a project from a git repository, and the deployments a real project has",
    async () => {
      await page.goto(base);
      await page.fill("#f-email", EMAIL);
      await page.fill("#f-password", "a long password");
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/`);

      // The repository is read before anything is created: its branches offered, the default one filled in.
      await page.goto(`${base}/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
      expect(await page.textContent("#repo-checked")).toBe("Repository checked: 1 branch, default main.");
      expect(await page.inputValue("#f-productionBranch")).toBe("main");
      expect(
        await page.$$eval("#branch-options option", (o) => o.map((e) => e.getAttribute("value"))),
      ).toEqual(["main"]);
      await docShot(page, "new-project-checked", true);
      await page.fill("#f-name", "Depth");
      await page.fill("#f-installCommand", "true");
      await page.fill("#f-outputDirectory", "dist");
      await page.click("#create-button");
      made.first = await finished("READY");
      projectId = made.first.projectId;
      expect(made.first.commitMessage).toBe("Add the <b>home</b> page");
      expect(made.first.commitAuthor).toBe("Fixture");

      // A branch preview, a failing branch, and a second production deployment.
      repo.commit({ "package.json": site("feature") }, "feature", "Try a new <header>");
      await deployBranch("feature");
      made.preview = await finished("READY");
      repo.commit(
        {
          "package.json": JSON.stringify({
            scripts: { build: FAILING },
          }),
        },
        "broken",
        "Break the build",
      );
      await deployBranch("broken");
      made.failed = await finished("FAIL");
      repo.commit({ "package.json": site("second") }, "main", "Second version");
      await deployBranch("");
      made.second = await finished("READY");
      expect((await deps.store.projects.find(projectId))?.productionDeploymentId).toBe(made.second.id);

      // A build in progress, held there by the test (its heartbeat keeps the reaper away).
      const building = await deps.store.deployments.create({
        projectId,
        userId: made.first.userId,
        status: "IN_PROGRESS",
        target: "preview",
        branch: "feature",
        commitSha: null,
      });
      await deps.store.deployments.heartbeat(building.id, new Date().toISOString());
      made.building = building;
    },
    STEP * 2,
  );

  test(
    "the deployment list: commit subjects first, a menu per row, filters and Roll back to this",
    async () => {
      const list = `${base}/projects/${projectId}`;
      await page.goto(list);
      const titles = await page.$$eval(".deployment-row .row-title", (els) => els.map((e) => e.textContent));
      expect(titles).toEqual([
        "Deployment of feature",
        "Second version",
        "Break the build",
        "Try a new <header>",
        "Add the <b>home</b> page",
      ]);
      expect(await page.$$(".row-title b, .row-title header")).toHaveLength(0);
      const row = (d: Deployment) => `#row-${d.id}`;
      expect(await page.textContent(`${row(made.preview)} .row-meta`)).toContain("Fixture");

      // The menu of the preview: Visit, Copy URL (to the clipboard), Promote, Redeploy.
      await page.click(`${row(made.preview)} summary`);
      const items = await page.$$eval(`${row(made.preview)} .menu-item`, (els) =>
        els.map((e) => e.textContent),
      );
      expect(items).toEqual(["Visit", "Copy URL", "Promote to production…", "Redeploy"]);
      await docShot(page, "deployments-menu", true);
      await page.click(`${row(made.preview)} button[data-copy]`);
      await page.waitForSelector(`${row(made.preview)} button[data-copy]:has-text('Copied')`);
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toMatch(/^http:\/\/depth(-[a-z0-9]+)?--[0-9a-f]{12}\.localhost:\d+$/);
      // Chromium resolves *.localhost itself: the copied URL serves the preview through the proxy.
      const visit = await context.newPage();
      await visit.goto(copied);
      expect(await visit.textContent("h1")).toBe("feature");
      await visit.close();
      await page.click(`${row(made.preview)} summary`);

      // The building one can be canceled from its menu; the failed one offers no Visit.
      await page.click(`${row(made.building)} summary`);
      expect(await page.isVisible(`${row(made.building)} [data-action=cancel]`)).toBe(true);
      await page.click(`${row(made.building)} summary`);
      await page.click(`${row(made.failed)} summary`);
      expect(await page.$(`${row(made.failed)} a.menu-item`)).toBeNull();
      await page.click(`${row(made.failed)} summary`);

      // Filters: by status, then by branch and environment; a wrong value is named.
      await page.selectOption("#filter-status", "FAIL");
      await page.click("#filter-button");
      await page.waitForURL(/status=FAIL/);
      expect(await page.$$eval(".deployment-row", (els) => els.map((e) => e.id))).toEqual([
        `row-${made.failed.id}`,
      ]);
      await page.goto(list);
      await page.fill("#filter-branch", "feature");
      await page.selectOption("#filter-target", "preview");
      await page.click("#filter-button");
      await page.waitForURL(/branch=feature/);
      expect(await page.$$(".deployment-row")).toHaveLength(2);
      await docShot(page, "deployments-filtered");
      await page.goto(`${list}?status=DONE`);
      expect(await page.textContent("#filter-error")).toContain("status must be one of");
    },
    STEP,
  );

  test(
    "roll back: a confirmation naming both commits, then what production serves now, and an Undo",
    async () => {
      const list = `${base}/projects/${projectId}`;
      const production = async () => (await deps.store.projects.find(projectId))?.productionDeploymentId;
      const served = async () => {
        const visit = await context.newPage();
        await visit.goto((await page.getAttribute(".project-links a.external", "href")) ?? "");
        const text = await visit.textContent("h1");
        await visit.close();
        return text;
      };
      await page.goto(list);
      // No permanent "roll back" card: the way back is in the menu of the earlier production deployment.
      expect(await page.$("#rollback-button")).toBeNull();
      await page.click(`#row-${made.first.id} summary`);
      await page.click(`#row-${made.first.id} [data-action=rollback]`);
      await page.waitForURL(/\/promote$/);
      expect(await page.textContent("#confirm-target")).toContain("Add the <b>home</b> page");
      expect(await page.textContent("#confirm-current")).toContain("Second version");
      expect(await page.textContent("#confirm-button")).toBe(
        `Roll back to ${made.first.commitSha?.slice(0, 7)}`,
      );
      await docShot(page, "rollback-confirm", true);
      // Nothing moved yet.
      expect(await production()).toBe(made.second.id);
      await page.click("#confirm-button");
      await page.waitForSelector("#promoted");
      expect(await production()).toBe(made.first.id);
      expect(await page.textContent("#promoted")).toContain("Production now serves Add the <b>home</b> page");
      expect(await served()).toBe("home");
      await docShot(page, "rollback-result", true);
      // The address no longer carries the result: a reload does not show it again.
      expect(new URL(page.url()).search).toBe("");
      await page.reload();
      expect(await page.$("#promoted")).toBeNull();

      // Undo (from the result card), then roll back again for the pages below.
      await page.goto(`${list}?promoted=${made.first.id}&from=${made.second.id}`);
      await page.click("#undo-button");
      await page.waitForSelector("#promoted");
      expect(await production()).toBe(made.second.id);
      expect(await page.textContent("#promoted")).toContain("Production now serves Second version");
      expect(await served()).toBe("second");
      await page.click("#undo-button");
      await page.waitForSelector("#promoted:has-text('Add the')");
      expect(await production()).toBe(made.first.id);
    },
    STEP,
  );

  test(
    "the project's production card: what is live, from which commit, since when, on which domains",
    async () => {
      await page.goto(`${base}/projects/${projectId}`);
      const card = page.locator("#production");
      expect(await card.locator(".summary-title").textContent()).toBe("Add the <b>home</b> page");
      expect(await card.textContent()).toContain(made.first.commitSha?.slice(0, 7) ?? "?");
      expect(await card.textContent()).toContain("Fixture");
      const since = await card.locator("#production-since time").getAttribute("datetime");
      expect(since).toBe((await deps.store.projects.find(projectId))?.productionSince ?? "");
      const domains = await card
        .locator("#production-domains li")
        .evaluateAll((items) =>
          items.map((li) => [li.getAttribute("data-state"), li.querySelector("a")?.getAttribute("href")]),
        );
      expect(domains).toEqual([["live", await page.getAttribute(".project-links a.external", "href")]]);
      // Its preview image, captured by the worker once it was READY (a placeholder until then).
      for (let waited = 0; (await previewOf(deps.artifacts, made.first.id)) === null; waited += 500) {
        if (waited > 120_000) throw new Error("no preview image of the production deployment");
        await Bun.sleep(500);
      }
      await page.reload();
      const size = await card.locator("#preview-image").evaluate(async (img: HTMLImageElement) => {
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      });
      expect(size).toEqual([1280, 800]);
      await docShot(page, "dashboard");
    },
    STEP,
  );

  test(
    "a deployment page: every alias, the build log in steps with their times",
    async () => {
      // After the rollback above the first deployment is production again: its own URL and production.
      await page.goto(`${base}/deployments/${made.first.id}`);
      const kinds = await page.$$eval("#aliases li", (items) =>
        items.map((li) => li.getAttribute("data-kind")),
      );
      expect(kinds).toEqual(["deployment", "production"]);
      // The newest of feature serves its branch URL, and is reachable there.
      await page.goto(`${base}/deployments/${made.preview.id}`);
      const branchUrl = await page.getAttribute("#aliases li[data-kind=branch] a", "href");
      expect(branchUrl).toMatch(/--git-feature\.localhost:\d+$/);
      const visit = await context.newPage();
      await visit.goto(branchUrl ?? "");
      expect(await visit.textContent("h1")).toBe("feature");
      await visit.close();
      // A local repository has no commit page to link to.
      expect(await page.$("#commit-link")).toBeNull();
      expect(await page.textContent(".summary-title")).toBe("Try a new <header>");

      await page.waitForSelector("#log details.log-step:not(.step-running) >> nth=3");
      const steps = await page.$$eval("#log details.log-step", (all) =>
        all.map((d) => [
          d.querySelector(".step-name")?.textContent,
          d.querySelector(".step-time")?.textContent,
          (d as HTMLDetailsElement).open,
        ]),
      );
      expect(steps.map(([name]) => name)).toEqual(["Clone", "Install", "Build", "Upload"]);
      for (const [, time, open] of steps) {
        expect(time).toMatch(/^\d+(\.\d)? m?s$/);
        expect(open).toBe(true);
      }
      // A step folds away and opens again.
      await page.click("#log details.log-step >> nth=0 >> summary");
      expect(await page.isVisible("#log details.log-step >> nth=0 >> .line >> nth=0")).toBe(false);
      await page.click("#log details.log-step >> nth=0 >> summary");
      expect(await page.isVisible("#log details.log-step >> nth=0 >> .line >> nth=0")).toBe(true);
      // Sized to its content: a short log leaves no empty box below it.
      expect(await page.$eval("#log", (el) => el.scrollHeight - el.clientHeight)).toBe(0);
      await docShot(page, "deployment-steps", true);
    },
    STEP,
  );

  test(
    "a failed deployment: the error lines in its summary jump to and highlight the line; stderr is not all red",
    async () => {
      await page.goto(`${base}/deployments/${made.failed.id}`);
      expect(await page.$("#aliases")).toBeNull();
      expect(await page.textContent("#summary")).not.toContain(".localhost");
      const errors = await page.$$eval(".error-line-link code", (codes) => codes.map((c) => c.textContent));
      expect(errors[0]).toBe("Error: cannot find module <./missing>");
      expect(errors.length).toBeGreaterThanOrEqual(2);
      await page.waitForSelector("#log details.log-step:not(.step-running) >> nth=2");
      // The steps that went well fold away; the failing one stays open.
      const open = await page.$$eval("#log details.log-step", (all) =>
        all.map((d) => [d.querySelector(".step-name")?.textContent, (d as HTMLDetailsElement).open]),
      );
      expect(open).toEqual([
        ["Clone", false],
        ["Install", false],
        ["Build", true],
      ]);
      const colour = (text: string) =>
        page.locator("#log .line-stderr", { hasText: text }).evaluate((el) => getComputedStyle(el).color);
      expect(await colour("npm WARN deprecated")).not.toBe("rgb(252, 165, 165)");
      expect(await colour("compiling 3 files")).not.toBe("rgb(252, 165, 165)");
      expect(await colour("cannot find module")).toBe("rgb(252, 165, 165)");

      await page.click(".error-line-link >> nth=0");
      await page.waitForSelector("#log .line-target");
      expect(await page.$eval("#log .line-target", (el) => el.textContent)).toBe(
        "Error: cannot find module <./missing>",
      );
      const inView = await page.$eval("#log .line-target", (line) => {
        const log = line.closest("#log")?.getBoundingClientRect();
        const box = line.getBoundingClientRect();
        return log !== undefined && box.top >= log.top && box.bottom <= log.bottom;
      });
      expect(inView).toBe(true);
      await docShot(page, "deployment-failed-highlight", true);

      // The address alone does it too (a link someone shared).
      const target = await page.$eval("#log .line-target", (el) => el.id);
      const fresh = await context.newPage();
      const freshProblems = watchProblems(fresh);
      await fresh.goto(`${base}/deployments/${made.failed.id}#${target}`);
      await fresh.waitForSelector(`#${target}.line-target`);
      await fresh.close();
      expect(freshProblems).toEqual([]);
    },
    STEP,
  );

  test(
    "the Git page: webhook URLs and secret to copy, a real delivery and what it triggered, the push remote",
    async () => {
      await page.goto(`${base}/projects/${projectId}`);
      await page.click("nav.tabs a:has-text('Git')");
      await page.waitForURL(/\/git$/);
      await page.click("button[data-copy='#hook-secret']");
      const secret = await page.evaluate(() => navigator.clipboard.readText());
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const hook = await page.inputValue("#hook-github");
      expect(hook).toBe(`${base}/api/hooks/${projectId}/github`);
      // GitHub's test delivery, signed with the secret, and one with a wrong signature.
      const deliver = async (key: string) => {
        const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
        const signature = new Bun.CryptoHasher("sha256", key).update(body).digest("hex");
        const res = await fetch(hook, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "ping",
            "x-github-delivery": crypto.randomUUID(),
            "x-hub-signature-256": `sha256=${signature}`,
          },
          body,
        });
        return res.status;
      };
      expect(await deliver(secret)).toBe(200);
      expect(await deliver("not the secret")).toBe(401);
      await page.reload();
      const rows = await page.$$eval("#deliveries .delivery", (items) =>
        items.map((li) => [
          li.getAttribute("data-status"),
          li.querySelector(".delivery-outcome")?.textContent,
        ]),
      );
      expect(rows).toEqual([
        ["401", "refused: webhook signature or token does not match this project's secret"],
        ["200", "ping"],
      ]);
      expect(await page.textContent("#push-commands")).toContain(`git remote add minivercel ${base}/git/`);
      expect(await page.textContent("#cli-project-commands")).toContain(
        "minivercel deploy --prod --project ",
      );
      await docShot(page, "git", true);
    },
    STEP,
  );

  test(
    "settings: sections with their navigation, a pasted .env, Redeploy to apply, no stale notice on reload",
    async () => {
      await page.goto(`${base}/projects/${projectId}/settings`);
      await page.click(".section-nav a[href='#env']");
      await page.click(".env-paste summary");
      await page.fill("#f-dotenv", "# from .env\nSITE_TITLE=Depth <site>\nexport API_TOKEN='t0ken'\n");
      await page.click("#env-paste-button");
      await page.waitForSelector("#redeploy-prompt");
      const keys = await page.$$eval("#env .list-row .mono", (els) => els.map((e) => e.textContent));
      expect(keys).toEqual(["API_TOKEN", "SITE_TITLE"]);
      expect(await page.content()).not.toContain("t0ken");
      // The address no longer says "saved": a reload shows neither the notice nor the prompt.
      expect(new URL(page.url()).search).toBe("");
      await docShot(page, "settings-redeploy", true);
      await page.reload();
      expect(await page.$("#redeploy-prompt")).toBeNull();
      // The build held in progress since the start is canceled from its row's menu (one build per project runs
      // at a time: the redeploy below waits for it otherwise).
      await page.goto(`${base}/projects/${projectId}`);
      await page.click(`#row-${made.building.id} summary`);
      await page.click(`#row-${made.building.id} [data-action=cancel]`);
      await page.waitForURL(/\/deployments\//);
      await page.waitForSelector("#summary[data-status='CANCELED']");
      // Redeploy to apply: a new production build of what production serves, with the variables.
      await page.goto(`${base}/projects/${projectId}/settings?saved=env`);
      await page.click("#redeploy-apply");
      const redeployed = await finished("READY");
      expect(redeployed.target).toBe("production");
      expect(redeployed.commitSha).toBe(made.first.commitSha);
      expect(await deps.store.projects.find(projectId).then((p) => p?.productionDeploymentId)).toBe(
        redeployed.id,
      );
    },
    STEP,
  );

  test(
    "account: the API reference linked, the password changed (the first wrong field focused), the sessions",
    async () => {
      await page.goto(`${base}/account`);
      expect(await page.getAttribute("a:has-text('API reference')", "href")).toBe("/api/docs");
      await page.fill("#f-current", "not the password");
      await page.fill("#f-password", "an even longer password");
      await page.click("#password-button");
      await page.waitForSelector("#f-current-error");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("f-current");
      await page.fill("#f-current", "a long password");
      await page.fill("#f-password", "an even longer password");
      await page.click("#password-button");
      await page.waitForSelector("#password-changed");
      expect(await page.$$("#session-list li[data-current='true']")).toHaveLength(1);
      await docShot(page, "account", true);
      const docs = await context.newPage();
      const response = await docs.goto(`${base}/api/docs`);
      expect(response?.status()).toBe(200);
      await docs.close();
    },
    STEP,
  );

  test(
    "every page of the walk on a phone too, with no console error anywhere",
    async () => {
      // A team of one, made through its form: its pages (members, invitations, audit log) are walked too.
      await page.goto(`${base}/teams`);
      await page.fill("#f-slug", "depth-team");
      await page.fill("#f-name", "Depth <team>");
      await page.click("#team-form button[type=submit]");
      await page.waitForURL(`${base}/teams/depth-team`);
      expect(await page.textContent("h1")).toContain("Depth <team>");
      const pages = [
        ["deployments", `${base}/projects/${projectId}`],
        ["deployment-ready", `${base}/deployments/${made.second.id}`],
        ["deployment-failed", `${base}/deployments/${made.failed.id}`],
        ["git", `${base}/projects/${projectId}/git`],
        ["settings", `${base}/projects/${projectId}/settings`],
        ["account-page", `${base}/account`],
        ["not-found", `${base}/no/such/page`],
        ["rollback-confirm", `${base}/deployments/${made.second.id}/promote`],
        ["new-project", `${base}/projects/new?gitUrl=${encodeURIComponent(repo.url)}`],
        ["analytics", `${base}/projects/${projectId}/analytics?range=day`],
        ["teams", `${base}/teams`],
        ["team", `${base}/teams/depth-team`],
        ["team-audit", `${base}/teams/depth-team/audit`],
        ["audit", `${base}/audit`],
      ] as const;
      for (const [name, url] of pages) {
        await page.goto(url);
        await page.waitForLoadState("networkidle");
        await docShot(page, `${name}-desktop`);
      }
      const phone = await browser.newContext({ viewport: PHONE });
      await phone.addCookies(await context.cookies());
      const small = await phone.newPage();
      const phoneProblems = watchProblems(
        small,
        (url, status) => status === 404 && url.endsWith("/no/such/page"),
      );
      for (const [name, url] of pages) {
        await small.goto(url);
        await small.waitForLoadState("networkidle");
        const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect({ url, overflow }).toEqual({ url, overflow: 0 });
        await docShot(small, `${name}-phone`, true);
      }
      // The row menu opens within the phone's width.
      await small.goto(`${base}/projects/${projectId}`);
      await small.click(`#row-${made.preview.id} summary`);
      const menu = await small.$eval(`#row-${made.preview.id} .menu`, (el) => {
        const box = el.getBoundingClientRect();
        return { left: box.left >= 0, right: box.right <= window.innerWidth };
      });
      expect(menu).toEqual({ left: true, right: true });
      await phone.close();
      expect(phoneProblems).toEqual([]);
      expect(problems).toEqual([]);
    },
    STEP,
  );
});

// The deployment page's summary through the dashboard's handler: every alias that serves it, the commit linked on its
// git host, and for a failed build its error lines (escaped, linked into the log) with no URL that will never work.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { DeploymentTarget } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { testDeps } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const SHA = "0123456789abcdef0123456789abcdef01234567";

async function owner(gitUrl = "https://github.com/acme/site.git", customDomain: string | null = null) {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "Paged",
    gitUrl,
    ...(customDomain && { customDomain }),
  });
  const deployment = async (
    target: DeploymentTarget,
    branch: string,
    end: "READY" | "FAIL" | "IN_PROGRESS",
  ) => {
    await Bun.sleep(2);
    return storedDeployment(deps.store, {
      projectId: project.id,
      userId: user.id,
      target,
      branch,
      commit: { sha: SHA, message: "Ship <it>", author: "Ada" },
      status: end,
      reason: "build exited with code 1",
    });
  };
  return { v, user, project, deployment };
}

/** The aliases listed in a page: [kind, host]. */
const aliases = (html: string) =>
  [
    ...html.matchAll(
      /<li data-kind="([a-z]+)"><span class="alias-kind">[^<]*<\/span>(?:<a [^>]*>|<span[^>]*>)([^<\s]+)/g,
    ),
  ].map((m) => [m[1], m[2]]);

describe("deployment page", () => {
  test("production lists its own URL, its branch, production and the custom domain (pending until verified)", async () => {
    const { v, deployment } = await owner("https://github.com/acme/site.git", "www.example.org");
    const d = await deployment("production", "main", "READY");
    const page = await v.get(`/deployments/${d.id}`);
    const found = aliases(page.text);
    expect(found.map(([kind]) => kind)).toEqual(["deployment", "branch", "production", "domain"]);
    expect(found[0]?.[1]).toContain(`--${deploymentHostId(d.id)}.localhost`);
    expect(found[1]?.[1]).toContain("--git-main.localhost");
    expect(found[3]?.[1]).toBe("www.example.org:8001");
    expect(page.text).toContain("DNS check pending");
    // The subject and author, as text; the commit links to GitHub.
    expect(page.text).toContain('<p class="summary-title">Ship &lt;it></p>');
    expect(page.text).toContain(`href="https://github.com/acme/site/commit/${SHA}"`);
    expect(page.text).toContain("<dd>Ada</dd>");
  });

  test("an older deployment of a branch is no longer its branch's URL; production only while current", async () => {
    const { v, deployment } = await owner("https://gitlab.com/group/sub/site.git");
    const older = await deployment("preview", "feature", "READY");
    const newer = await deployment("preview", "feature", "READY");
    const kinds = async (id: string) =>
      aliases((await v.get(`/deployments/${id}`)).text).map(([kind]) => kind);
    expect(await kinds(newer.id)).toEqual(["deployment", "branch"]);
    expect(await kinds(older.id)).toEqual(["deployment"]);
    expect((await v.get(`/deployments/${newer.id}`)).text).toContain(
      `href="https://gitlab.com/group/sub/site/-/commit/${SHA}"`,
    );
  });

  test("no commit link for a repository on a host without commit pages", async () => {
    const { v, deployment } = await owner("https://git.example.com/acme/site.git");
    const d = await deployment("production", "main", "READY");
    const page = await v.get(`/deployments/${d.id}`);
    expect(page.text).not.toContain('id="commit-link"');
    expect(page.text).toContain(SHA.slice(0, 7));
  });

  test("a failed build: its error lines in the summary, escaped and linked into the log; no URL", async () => {
    const { v, deployment } = await owner();
    const d = await deployment("preview", "broken", "FAIL");
    const at = new Date().toISOString();
    const text = [
      "> build",
      "npm WARN deprecated something", // stderr, but no error
      "\u001b[31mError: cannot find module <./missing>\u001b[0m",
      "compiled 3 files",
      "Error: build exited with code 1",
    ];
    await deps.logs.append(
      text.map((t, i) => ({
        deploymentId: d.id,
        seq: i + 1,
        stream:
          i === 4 ? ("system" as const) : i === 1 || i === 2 ? ("stderr" as const) : ("stdout" as const),
        text: t,
        at,
      })),
    );
    const page = await v.get(`/deployments/${d.id}`);
    const links = [
      ...page.text.matchAll(/<a href="(#L\d+)" class="error-line-link"[^>]*>.*?<code>(.*?)<\/code>/g),
    ].map((m) => [m[1], m[2]]);
    expect(links).toEqual([
      ["#L3", "Error: cannot find module &lt;./missing>"],
      ["#L5", "Error: build exited with code 1"],
    ]);
    expect(page.text).toContain("build exited with code 1");
    // No URL: a failed deployment is never served.
    expect(page.text).not.toContain(deploymentHostId(d.id));
    expect(page.text).not.toContain('id="aliases"');
    expect(page.text).not.toContain("promote-button");
  });

  test("while building: the URL it will have, not a link", async () => {
    const { v, deployment } = await owner();
    const d = await deployment("preview", "feature", "IN_PROGRESS");
    const page = await v.get(`/deployments/${d.id}`);
    expect(page.text).toContain("URL when ready");
    expect(page.text).toMatch(new RegExp(`<span class="mono muted">[^<]*--${deploymentHostId(d.id)}`));
    expect(page.text).not.toContain('id="aliases"');
  });

  test("another account gets the not-found page for every view of it", async () => {
    const { deployment } = await owner();
    const d = await deployment("preview", "broken", "FAIL");
    const stranger = new Visitor(app);
    await signIn(deps.store, stranger);
    for (const path of ["", "/summary", "/badge", "/log.txt"]) {
      const res = await stranger.get(`/deployments/${d.id}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.text).not.toContain("Ship");
    }
  });
});

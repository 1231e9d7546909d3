// A project's overview through the dashboard's handler: the production card says what is live, from which commit,
// since when, and on which domains with their verification state.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const SHA = "abcdef0123456789abcdef0123456789abcdef01";
const card = (html: string) =>
  /<section class="card production-card"[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";

describe("production card", () => {
  test("before anything is live it says where production will be", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, {
      name: "Empty",
      gitUrl: "https://github.com/acme/empty.git",
    });
    const html = card((await v.get(`/projects/${project.id}`)).text);
    expect(html).toContain("Nothing is live yet");
    expect(html).toContain(`${project.subDomain}.localhost`);
  });

  test("what is live, from which commit (linked), since when, on which domains and their state", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const project = await createProject(deps.store, deps.config, user.id, {
      name: "Live",
      gitUrl: "https://github.com/acme/live.git",
      customDomain: "www.live.example",
    });
    const d = await deps.store.deployments.create({
      projectId: project.id,
      userId: user.id,
      status: "QUEUED",
      target: "production",
      branch: "main",
      commitSha: null,
    });
    await deps.store.deployments.recordCommit(d.id, SHA, { message: "Launch <day>", author: "Grace" });
    await deps.store.deployments.transition(d.id, "IN_PROGRESS", null);
    await deps.store.deployments.markReady(d.id);
    const since = (await deps.store.projects.find(project.id))?.productionSince ?? "";
    expect(since).not.toBe("");

    let html = card((await v.get(`/projects/${project.id}`)).text);
    expect(html).toContain(`<a href="/deployments/${d.id}">Launch &lt;day></a>`);
    expect(html).toContain(`href="https://github.com/acme/live/commit/${SHA}"`);
    expect(html).toContain("<dd>Grace</dd>");
    expect(html).toContain(`datetime="${since}"`);
    expect(html).toContain('data-state="pending"');
    expect(html).toContain("DNS check pending");
    expect(html).not.toContain('href="http://www.live.example');

    await deps.store.projects.markDomainVerified(project.id, "www.live.example");
    html = card((await v.get(`/projects/${project.id}`)).text);
    expect(html).toContain('data-state="verified"');
    expect(html).toContain('href="http://www.live.example:8001"');
  });
});

describe("creating from a git URL", () => {
  test("the repository is read first: its branches offered, its default branch as production's", async () => {
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const repo = fixtureRepo({ "index.html": "hi" }, "trunk");
    repo.commit({ "a.txt": "a" }, "<b>feature</b>");
    repo.commit({ "b.txt": "b" }, "trunk");
    const page = await v.get(`/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="repo-checked"');
    expect(page.text).toContain("Repository checked: 2 branches");
    expect(page.text).toContain('id="f-productionBranch" name="productionBranch" type="text" value="trunk"');
    expect(page.text).toContain('list="branch-options"');
    expect(page.text).toContain('<option value="&lt;b>feature&lt;/b>"></option>');
    expect(page.text).not.toContain("<b>feature");
  });

  test("a URL on the platform's own network, or one that cannot be read, is named inline and nothing runs", async () => {
    // As configured by default: local repositories allowed here for the test, private networks not.
    const strict = await testDeps({ MINIVERCEL_ALLOW_PRIVATE_GIT: "0" });
    const v = new Visitor(createDashboard(strict));
    await signIn(strict.store, v);
    const ssrf = await v.get(
      `/projects/new?gitUrl=${encodeURIComponent("http://169.254.169.254/latest/x.git")}`,
    );
    expect(ssrf.status).toBe(200);
    expect(ssrf.text).toMatch(
      /id="f-gitUrl-error"[^>]*>Git repository URL host 169\.254\.169\.254 is [^<]*own network/,
    );
    const missing = await v.get(`/projects/new?gitUrl=${encodeURIComponent("file:///nonexistent/x.git")}`);
    expect(missing.text).toMatch(/id="f-gitUrl-error"[^>]*>Git repository URL could not be read: /);
    expect(missing.text).not.toContain('id="repo-checked"');
    // Signed out: no repository is read for anyone.
    const anonymous = new Visitor(app);
    expect((await anonymous.get(`/projects/new?gitUrl=${encodeURIComponent("file:///x.git")}`)).status).toBe(
      303,
    );
    await strict.close();
  });
});

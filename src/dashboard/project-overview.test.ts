// A project's overview through the dashboard's handler: the production card says what is live, from which commit,
// since when, and on which domains with their verification state.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../testing/repos.ts";
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
    const d = await storedDeployment(deps.store, {
      projectId: project.id,
      userId: user.id,
      commit: { sha: SHA, message: "Launch <day>", author: "Grace" },
    });
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

  test("its files are read at the default branch: the detected framework and settings fill the form", async () => {
    const v = new Visitor(app);
    const user = await signIn(deps.store, v);
    const repo = fixtureRepo({ ...VITE_APP, "package-lock.json": "{}" }, "main");
    const server = fixtureRepo({ Procfile: "web: node <b>server</b>.js\n", "server.js": "1" }, "main");
    const page = await v.get(`/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
    expect(page.text).toContain('Detected <span id="detected-framework">Vite</span>');
    expect(page.text).toContain('id="f-installCommand" name="installCommand" type="text" value="npm ci"');
    expect(page.text).toContain('id="f-buildCommand" name="buildCommand" type="text" value="npm run build"');
    expect(page.text).toContain('id="f-outputDirectory" name="outputDirectory" type="text" value="dist"');
    expect(page.text).toContain('<option value="vite" selected data-build');
    // A start command certain to run (no site to serve) is filled in too, escaped.
    const app2 = await v.get(`/projects/new?gitUrl=${encodeURIComponent(server.url)}`);
    expect(app2.text).toContain("node &lt;b>server&lt;/b>.js");
    expect(app2.text).not.toContain("<b>server");
    expect(app2.text).toMatch(/id="f-startCommand" name="startCommand" type="text" value="node &lt;b>server/);
    // Another branch, on asking; one it does not have: the default one is read.
    repo.commit({ "package.json": "{}" }, "plain");
    repo.commit({}, "main");
    const plain = await v.get(`/projects/new?gitUrl=${encodeURIComponent(repo.url)}&branch=plain`);
    expect(plain.text).toContain('<option value="plain" selected>plain</option>');
    expect(plain.text).toContain('Detected <span id="detected-framework">Static files</span>');
    const unknown = await v.get(`/projects/new?gitUrl=${encodeURIComponent(repo.url)}&branch=nope`);
    expect(unknown.text).toContain('Detected <span id="detected-framework">Vite</span>');
    // The settings as shown are saved, the start command with them.
    const form = {
      name: "Detected",
      gitUrl: server.url,
      installCommand: "true",
      startCommand: "node server.js",
    };
    expect((await v.post("/projects", form)).status).toBe(303);
    const created = (await deps.store.projects.list(user.id, { limit: 10, cursor: null })).items;
    expect(created.map((p) => [p.installCommand, p.startCommand])).toEqual([["true", "node server.js"]]);
  });

  test("files that cannot be detected say why inline, and the form stays usable", async () => {
    const v = new Visitor(app);
    await signIn(deps.store, v);
    const repo = fixtureRepo({ "package.json": "{ not json" });
    const page = await v.get(`/projects/new?gitUrl=${encodeURIComponent(repo.url)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="detect-problem"');
    expect(page.text).toContain("package.json is not valid JSON");
    expect(page.text).toContain('id="create-button"');
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

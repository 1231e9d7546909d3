// Vercel's system variables in a build (VERCEL=1, its URLs, deployment id, git ref and commit), set by the
// platform over a project variable of the same name, as on Vercel: frameworks detect Vercel by them.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { queueDeployment } from "../deploy/deploy.ts";
import { setEnvVar } from "../deploy/env.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { branchUrl, deploymentUrl, productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";

let deps: Deps;
let roles: Running;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
});
afterAll(async () => {
  await roles.stop(1000);
  await deps.close();
});

const VARS = [
  "VERCEL",
  "VERCEL_ENV",
  "VERCEL_URL",
  "VERCEL_PROJECT_PRODUCTION_URL",
  "VERCEL_BRANCH_URL",
  "VERCEL_DEPLOYMENT_ID",
  "VERCEL_GIT_COMMIT_REF",
  "VERCEL_GIT_COMMIT_SHA",
];

test("a build sees Vercel's system variables, over the project's own", async () => {
  const { user } = await testUser(deps);
  const repo = fixtureRepo({
    "package.json": JSON.stringify({
      scripts: { build: `mkdir -p out && env | grep '^VERCEL' | sort > out/env.txt` },
    }),
  });
  const sha = repo.commit({ "feature.txt": "x" }, "feature");
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `sys-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
    installCommand: "true",
    outputDirectory: "out",
  });
  await setEnvVar(deps.store, deps.sealer, user.id, project.id, "VERCEL_URL", "forged.example.com");
  const d = await queueDeployment(deps, user.id, { projectId: project.id, branch: "feature" });
  let status = "";
  for (let i = 0; i < 600 && status !== "READY"; i++) {
    const now = await deps.store.deployments.find(d.id);
    status = now?.status ?? "";
    if (status === "FAIL") throw new Error(`build failed: ${now?.statusReason}`);
    await Bun.sleep(100);
  }
  const manifest = await deps.artifacts.getManifest(d.id);
  const file = manifest?.files["/env.txt"];
  if (!file) throw new Error("the build wrote no env.txt");
  const text = (await (await deps.artifacts.getBlob(file.hash))?.text()) ?? "";
  const seen = Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const host = (url: string) => new URL(url).host;
  expect(Object.keys(seen).sort()).toEqual([...VARS].sort());
  expect(seen).toEqual({
    VERCEL: "1",
    VERCEL_ENV: "preview",
    VERCEL_URL: host(deploymentUrl(project, d.id, deps.config)),
    VERCEL_PROJECT_PRODUCTION_URL: host(productionUrl(project, deps.config)),
    VERCEL_BRANCH_URL: host(branchUrl(project, "feature", deps.config)),
    VERCEL_DEPLOYMENT_ID: d.id,
    VERCEL_GIT_COMMIT_REF: "feature",
    VERCEL_GIT_COMMIT_SHA: sha,
  });
}, 60_000);

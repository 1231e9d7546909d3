// A repository or a build that points its root or output directory outside the checkout through a symlink is
// refused with a clear reason and publishes nothing: through the real pipeline (git, sandbox, upload) on the
// embedded defaults, and through a real builder process in http mode (the ECS task's code path).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { queueDeployment } from "../src/deploy/deploy.ts";
import { createProject } from "../src/deploy/projects.ts";
import type { Deps } from "../src/deps.ts";
import { type Running, startRoles } from "../src/roles.ts";
import { testDeps, testUser } from "../src/testing/deps.ts";
import { remoteBuild as runRemoteBuild } from "../src/testing/remote-builder.ts";
import { fixtureRepo } from "../src/testing/repos.ts";
import { endedDeployment } from "../src/testing/store-deployment.ts";
import type { BuildJob } from "./job.ts";

let deps: Deps;
let roles: Running;
let userId: string;
let apiUrl: string;

beforeAll(async () => {
  deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    LISTEN_HOST: "127.0.0.1",
  });
  roles = await startRoles(deps);
  apiUrl = roles.urls.api ?? "";
  userId = (await testUser(deps)).user.id;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
}, 60_000);

/** A repository with `index.html`, `public/index.html` and the given symlinks (name -> target), committed. */
function repoWithLinks(links: Record<string, string>, files: Record<string, string> = {}) {
  const repo = fixtureRepo({
    "index.html": "<h1>root</h1>",
    "public/index.html": "<h1>public</h1>",
    ...files,
  });
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(join(repo.dir, name, ".."), { recursive: true });
    symlinkSync(target, join(repo.dir, name));
  }
  repo.commit({});
  return repo;
}

type Settings = { rootDirectory?: string; outputDirectory?: string; buildCommand?: string };

async function deployed(gitUrl: string, settings: Settings) {
  const project = await createProject(deps.store, deps.config, userId, {
    name: `esc-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl,
    ...settings,
  });
  const d = await queueDeployment(deps, userId, { projectId: project.id });
  return endedDeployment(deps.store, d.id);
}

/** Every file of the data dir outside the artifact store: none of them may have become a blob. */
function hostFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "artifacts" && entry.name !== "builds") hostFiles(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function expectNothingOfTheHostStored(deploymentId: string) {
  expect(await deps.artifacts.getManifest(deploymentId)).toBeNull();
  const hashes = hostFiles(deps.config.dataDir).map((path) =>
    new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex"),
  );
  expect(hashes.length).toBeGreaterThan(0);
  // The secret key above all: its hash must be missing from the store.
  expect((await deps.artifacts.missing(hashes)).sort()).toEqual([...new Set(hashes)].sort());
}

const ESCAPES = "resolves outside the repository through a symbolic link";

describe("the embedded pipeline (git, bubblewrap sandbox, upload on the host)", () => {
  test("outputDirectory through a relative symlink up to the data dir: FAIL, nothing stored", async () => {
    // The checkout is <data>/builds/<id>/src: three levels up is the data dir with secret.key and the databases.
    const d = await deployed(repoWithLinks({ out: "../../.." }).url, { outputDirectory: "out" });
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toBe(`outputDirectory "out" ${ESCAPES}; refusing to read it`);
    await expectNothingOfTheHostStored(d.id);
  }, 120_000);

  test("outputDirectory through an absolute symlink: FAIL", async () => {
    const d = await deployed(repoWithLinks({ out: deps.config.dataDir }).url, { outputDirectory: "out" });
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain(ESCAPES);
    await expectNothingOfTheHostStored(d.id);
  }, 120_000);

  test("a symlink deeper in the output path counts too (site/out with site -> /)", async () => {
    const d = await deployed(repoWithLinks({ site: "/" }).url, { outputDirectory: "site/etc" });
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain(ESCAPES);
  }, 120_000);

  test("rootDirectory through relative and absolute symlinks: FAIL before anything runs", async () => {
    for (const target of ["../../../..", "/etc"]) {
      const d = await deployed(repoWithLinks({ app: target }).url, { rootDirectory: "app" });
      expect(d.status).toBe("FAIL");
      expect(d.statusReason).toBe(`rootDirectory "app" ${ESCAPES}; refusing to read it`);
      await expectNothingOfTheHostStored(d.id);
    }
  }, 120_000);

  test("a build that makes its output directory a symlink out of the checkout: FAIL", async () => {
    const d = await deployed(repoWithLinks({}).url, {
      buildCommand: "ln -s ../../.. dist",
      outputDirectory: "dist",
    });
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain(ESCAPES);
    await expectNothingOfTheHostStored(d.id);
  }, 120_000);

  test("a build that swaps its root directory for a symlink after it was read: FAIL", async () => {
    const d = await deployed(repoWithLinks({}, { "app/index.html": "<h1>app</h1>" }).url, {
      rootDirectory: "app",
      buildCommand: "cd .. && mv app app.real && ln -s ../../.. app",
    });
    expect(d.status).toBe("FAIL");
    expect(d.statusReason).toContain(`rootDirectory "app" ${ESCAPES}`);
    await expectNothingOfTheHostStored(d.id);
  }, 120_000);

  test("symlinks that stay inside the checkout still work (output -> public)", async () => {
    const d = await deployed(repoWithLinks({ site: "public" }).url, { outputDirectory: "site" });
    expect(d.status).toBe("READY");
    const manifest = await deps.artifacts.getManifest(d.id);
    expect(Object.keys(manifest?.files ?? {})).toEqual(["/index.html"]);
  }, 120_000);
});

describe("a real builder process in http mode (the ECS task's code path, sandbox none)", () => {
  const remoteBuild = (gitUrl: string, settings: Partial<BuildJob>) =>
    runRemoteBuild(deps, { userId, apiUrl, gitUrl, settings });

  test("output and root directories through symlinks are refused, files inside still deploy", async () => {
    // <data>/remote/<id>/src: three levels up is the data dir.
    const out = await remoteBuild(repoWithLinks({ out: "../../.." }).url, { outputDirectory: "out" });
    expect(out.status).toBe("FAIL");
    expect(out.statusReason).toContain(`outputDirectory "out" ${ESCAPES}`);
    await expectNothingOfTheHostStored(out.id);

    const root = await remoteBuild(repoWithLinks({ app: "/" }).url, { rootDirectory: "app" });
    expect(root.status).toBe("FAIL");
    expect(root.statusReason).toContain(`rootDirectory "app" ${ESCAPES}`);

    const built = await remoteBuild(repoWithLinks({}).url, {
      buildCommand: "ln -s / dist",
      outputDirectory: "dist",
    });
    expect(built.status).toBe("FAIL");
    expect(built.statusReason).toContain(ESCAPES);

    const fine = await remoteBuild(repoWithLinks({ site: "public" }).url, { outputDirectory: "site" });
    expect(fine.status).toBe("READY");
  }, 120_000);
});

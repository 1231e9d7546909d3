// Backup and restore on a real embedded data directory: what an archive holds, and every refusal leaving the
// target untouched.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig } from "../config/config.ts";
import { createProject } from "../deploy/projects.ts";
import { type Deps, openDeps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { ensurePushRepo, pushRepoPath, pushRepoUrl } from "../git/repos.ts";
import type { Manifest } from "../store/artifacts.ts";
import { tempDir, testDeps, testUser } from "../testing/deps.ts";
import { collectGarbage } from "../worker/gc.ts";
import { createBackup } from "./backup.ts";
import { latestSchema } from "./format.ts";
import type { Output } from "./meter.ts";
import { restoreBackup } from "./restore.ts";

const quiet: Output = { isTTY: false, write: () => {} };
const sha = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");
const bytes = (text: string) => new TextEncoder().encode(text);

let deps: Deps;
let archive = "";
const ids = { ready: "", failed: "", project: "" };
const files = {
  shared: "<h1>live</h1>",
  css: "body{}",
  dead: "only the failed deployment has me",
  orphan: "x",
};

async function deployment(
  projectId: string,
  userId: string,
  content: Record<string, string>,
  end: "READY" | "FAIL",
) {
  const d = await deps.store.deployments.create({
    projectId,
    userId,
    status: "IN_PROGRESS",
    target: "production",
    branch: "main",
    commitSha: null,
  });
  const manifest: Manifest = {
    version: 1,
    deploymentId: d.id,
    createdAt: new Date().toISOString(),
    files: {},
  };
  for (const [path, text] of Object.entries(content)) {
    await deps.artifacts.putBlob(sha(text), bytes(text));
    manifest.files[path] = { hash: sha(text), size: bytes(text).length, type: "text/html" };
  }
  await deps.artifacts.putManifest(manifest);
  await deps.logs.append([
    { deploymentId: d.id, seq: 1, stream: "system", text: `log of ${d.id}`, at: d.createdAt },
  ]);
  if (end === "READY") expect(await deps.store.deployments.markReady(d.id)).not.toBeNull();
  else await deps.store.deployments.transition(d.id, "FAIL", "broken");
  return d.id;
}

/** Restore into a fresh path; returns the target and its parent (to check for leftovers). */
async function restoreInto(file: string, options: { force?: boolean; target?: string } = {}) {
  const target = options.target ?? join(tempDir("minivercel-restore-"), "data");
  const result = await restoreBackup({
    file,
    dataDir: target,
    force: options.force ?? false,
    secretKeyFromEnv: false,
    out: quiet,
  });
  return { target, result };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  deps = await testDeps();
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, { name: "Backed Up" });
  ids.project = project.id;
  ensurePushRepo(deps.config.dataDir, project.id, "main");
  await deps.store.projects.update(user.id, project.id, {
    gitUrl: pushRepoUrl(deps.config.dataDir, project.id),
  });
  ids.ready = await deployment(
    project.id,
    user.id,
    { "/index.html": files.shared, "/a.css": files.css },
    "READY",
  );
  ids.failed = await deployment(
    project.id,
    user.id,
    { "/index.html": files.shared, "/x": files.dead },
    "FAIL",
  );
  await deps.artifacts.putBlob(sha(files.orphan), bytes(files.orphan));
  // The databases stay open (WAL, like a running server) while the backup is taken.
  archive = join(tempDir("minivercel-archive-"), "backup.tar.gz");
  const summary = await createBackup({
    dataDir: deps.config.dataDir,
    file: archive,
    secretKeyFromEnv: false,
    out: quiet,
  });
  expect(summary.schemaVersion).toBe(latestSchema());
});
afterAll(async () => {
  await deps.close();
});

describe("backup and restore", () => {
  test("restores the databases, live deployments' files, the secret key and push repositories", async () => {
    const { target, result } = await restoreInto(archive);
    expect(result.header.dataDir).toBe(deps.config.dataDir);
    expect(result.previous).toBeNull();
    expect(readFileSync(join(target, "secret.key"), "utf8")).toBe(
      readFileSync(join(deps.config.dataDir, "secret.key"), "utf8"),
    );
    const restored = await openDeps(loadConfig({ MINIVERCEL_DATA: target }));
    try {
      expect((await restored.store.deployments.find(ids.ready))?.status).toBe("READY");
      expect((await restored.store.projects.find(ids.project))?.productionDeploymentId).toBe(ids.ready);
      expect(await restored.artifacts.getManifest(ids.ready)).toEqual(
        await deps.artifacts.getManifest(ids.ready),
      );
      expect(await (await restored.artifacts.getBlob(sha(files.css)))?.text()).toBe(files.css);
      expect((await restored.logs.read(ids.ready, 0, 10)).map((l) => l.text)).toEqual([
        `log of ${ids.ready}`,
      ]);
      // A failed deployment's files and an unreferenced blob are garbage: left out.
      expect(await restored.artifacts.getManifest(ids.failed)).toBeNull();
      expect(await restored.artifacts.getBlob(sha(files.dead))).toBeNull();
      expect(await restored.artifacts.getBlob(sha(files.orphan))).toBeNull();
      // The push remote came along without hooks (the server writes its own when it opens the repository),
      // and the project points at its new path.
      const repo = pushRepoPath(target, ids.project);
      expect(existsSync(join(repo, "HEAD"))).toBe(true);
      expect(existsSync(join(repo, "hooks"))).toBe(false);
      ensurePushRepo(target, ids.project, "main");
      expect(statSync(join(repo, "hooks", "post-receive")).mode & 0o100).toBe(0o100);
      expect((await restored.store.projects.find(ids.project))?.gitUrl).toBe(
        pushRepoUrl(target, ids.project),
      );
    } finally {
      await restored.close();
    }
  });

  test("holds a push repository's data and config, not its hooks", () => {
    const listed = Bun.spawnSync(["tar", "-tzf", archive]).stdout.toString().trim().split("\n");
    const repo = `git/${ids.project}.git/`;
    const inRepo = listed.filter((p) => p.startsWith(repo)).map((p) => p.slice(repo.length));
    expect(inRepo).toContain("HEAD");
    expect(inRepo).toContain("config");
    expect(inRepo.filter((p) => !/^(HEAD|config|packed-refs|(refs|objects|logs)\/.+)$/.test(p))).toEqual([]);
  });

  test("a project deleted and collected during the backup: the backup starts again and leaves it out", async () => {
    const { user } = await testUser(deps);
    const doomed = await createProject(deps.store, deps.config, user.id, { name: "Doomed" });
    const id = await deployment(doomed.id, user.id, { "/index.html": "doomed and unique" }, "READY");
    const notes: string[] = [];
    const file = join(tempDir("minivercel-archive-"), "race.tar.gz");
    await createBackup({
      dataDir: deps.config.dataDir,
      file,
      secretKeyFromEnv: false,
      out: { isTTY: false, write: (text) => void notes.push(text) },
      afterSnapshot: async (attempt) => {
        if (attempt !== 1) return;
        // What a server may do right after the snapshot: the project goes, and a collection takes its files.
        expect(await deps.store.projects.delete(user.id, doomed.id)).toBe(true);
        await collectGarbage(deps, { graceMs: 0, previewRetentionMs: null });
      },
    });
    expect(notes.join("")).toContain("starting again");
    const { target } = await restoreInto(file);
    const restored = await openDeps(loadConfig({ MINIVERCEL_DATA: target }));
    try {
      expect(await restored.store.deployments.find(id)).toBeNull();
      expect(await restored.artifacts.getManifest(id)).toBeNull();
      expect((await restored.store.deployments.find(ids.ready))?.status).toBe("READY");
      expect(await (await restored.artifacts.getBlob(sha(files.shared)))?.text()).toBe(files.shared);
    } finally {
      await restored.close();
    }
  });

  test("refuses a non-empty directory unless forced, and then keeps the old contents aside", async () => {
    const target = join(tempDir("minivercel-restore-"), "data");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(target);
    writeFileSync(join(target, "keep.txt"), "mine");
    const error = await refusal(restoreInto(archive, { target }));
    expect(error.status).toBe(409);
    expect(error.message).toContain("is not empty");
    expect(readdirSync(target)).toEqual(["keep.txt"]);
    expect(readdirSync(dirname(target))).toEqual(["data"]);

    const { result } = await restoreInto(archive, { target, force: true });
    expect(result.previous).not.toBeNull();
    expect(readFileSync(join(String(result.previous), "keep.txt"), "utf8")).toBe("mine");
    expect(existsSync(join(target, "minivercel.db"))).toBe(true);
    expect(existsSync(join(target, "keep.txt"))).toBe(false);
  });

  test("refuses a directory a running server uses, even with --force", async () => {
    const target = join(tempDir("minivercel-restore-"), "data");
    const server = Bun.spawn(["sleep", "30"]);
    try {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(join(target, "run"), { recursive: true });
      writeFileSync(join(target, "run", `serve-${server.pid}`), "");
      const error = await refusal(restoreInto(archive, { target, force: true }));
      expect(error.message).toContain(`pid ${server.pid}`);
      expect(readdirSync(target)).toEqual(["run"]);
    } finally {
      server.kill();
      await server.exited;
    }
    // Its marker outlived it (a crash): no longer a reason to refuse.
    const { result } = await restoreInto(archive, { target, force: true });
    expect(result.files).toBeGreaterThan(3);
  });
});

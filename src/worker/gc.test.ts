// Garbage collection on the embedded defaults: mark and sweep, dead manifests, preview expiry, project
// deletion (runtime logs going with them), and the guarantee under concurrency: uploads racing collections never
// lose a referenced blob.

import { afterEach, describe, expect, test } from "bun:test";
import { utimesSync } from "node:fs";
import { join } from "node:path";
import { deleteProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { DeploymentTarget, Project } from "../model/entities.ts";
import type { Logger } from "../observe/log.ts";
import { blob } from "../store/artifacts.contract.ts";
import { type Artifacts, blobsOf, type Manifest } from "../store/artifacts.ts";
import { openDiskArtifacts } from "../store/artifacts-disk.ts";
import { runtimeLine } from "../store/runtime-logs.contract.ts";
import type { RuntimeLogs } from "../store/runtime-logs.ts";
import { openSqliteRuntimeLogs } from "../store/runtime-logs-sqlite.ts";
import type { Store } from "../store/store.ts";
import { openSqliteStore } from "../store/store-sqlite.ts";
import { tempDir, testDeps } from "../testing/deps.ts";
import { captureLog } from "../testing/metrics.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { collectGarbage, createCollector, type GcOptions, startPeriodicGc } from "./gc.ts";

const HOUR = 3_600_000;
const KEEP_PREVIEWS: GcOptions = { graceMs: HOUR, previewRetentionMs: null };

type Blob_ = ReturnType<typeof blob>;

interface World {
  store: Store;
  artifacts: Artifacts;
  runtimeLogs: RuntimeLogs;
  dir: string;
  project: Project;
  userId: string;
  log: Logger;
  /** What `log` wrote, parsed. */
  logged: Record<string, unknown>[];
}

async function world(): Promise<World> {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  const dir = tempDir("minivercel-gc-");
  const artifacts = openDiskArtifacts(dir);
  const user = await store.users.create({
    email: `gc-${crypto.randomUUID()}@example.com`,
    passwordHash: null,
  });
  const project = await newProject(store, user.id);
  const { log, lines } = captureLog();
  const runtimeLogs = openSqliteRuntimeLogs(":memory:");
  return { store, artifacts, runtimeLogs, dir, project, userId: user.id, log, logged: lines };
}

function newProject(store: Store, userId: string): Promise<Project> {
  return store.projects.create({
    userId,
    name: "Site",
    gitUrl: null,
    subDomain: `gc-${crypto.randomUUID().slice(0, 8)}`,
    customDomain: null,
    productionBranch: "main",
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    outputDirectory: null,
    buildTimeoutSeconds: null,
    spaFallback: true,
    startCommand: null,
    idleTimeoutMinutes: null,
    maxInstances: null,
  });
}

/** A deployment row: QUEUED (alive, not served yet) or READY. */
async function deployment(
  w: Pick<World, "store" | "userId">,
  project: Project,
  opts: { ready?: boolean; target?: DeploymentTarget; branch?: string } = {},
) {
  // Two milliseconds apart, so "newer" and "older" are well defined.
  await Bun.sleep(2);
  return storedDeployment(w.store, {
    projectId: project.id,
    userId: w.userId,
    target: opts.target ?? "preview",
    branch: opts.branch ?? "main",
    status: opts.ready ? "READY" : "QUEUED",
  });
}

function manifestOf(id: string, blobs: Blob_[], createdAt = new Date()): Manifest {
  return {
    version: 1,
    deploymentId: id,
    createdAt: createdAt.toISOString(),
    files: Object.fromEntries(
      blobs.map((b, i) => [`/f${i}.txt`, { hash: b.hash, size: b.data.length, type: "text/plain" }]),
    ),
  };
}

async function put(artifacts: Artifacts, ...blobs: Blob_[]) {
  for (const b of blobs) await artifacts.putBlob(b.hash, b.data);
}

/** Makes blobs look stored `ms` ago (a blob's mtime is its storedAt on disk). */
function backdate(dir: string, ms: number, ...blobs: Blob_[]) {
  const at = new Date(Date.now() - ms);
  for (const b of blobs) utimesSync(join(dir, "blobs", b.hash.slice(0, 2), b.hash.slice(2)), at, at);
}

async function stored(artifacts: Artifacts, ...blobs: Blob_[]): Promise<boolean[]> {
  return Promise.all(blobs.map(async (b) => (await artifacts.getBlob(b.hash)) !== null));
}

/** Gives each deployment a runtime log line; `logged` then says which still have theirs. */
async function withRuntimeLines(runtimeLogs: RuntimeLogs, ...ids: string[]) {
  await runtimeLogs.append(ids.map((id) => runtimeLine(id, 1)));
  return () => Promise.all(ids.map(async (id) => (await runtimeLogs.read(id, { limit: 1 })).length === 1));
}

describe("collectGarbage", () => {
  test("deletes old unreferenced blobs; keeps referenced ones, their variants, and young ones", async () => {
    const w = await world();
    const [ref, gz, garbage, young] = [blob("ref"), blob("ref.gz"), blob("garbage"), blob("young")];
    await put(w.artifacts, ref, gz, garbage, young);
    const d = await deployment(w, w.project);
    const m = manifestOf(d.id, [ref]);
    m.files["/f0.txt"] = {
      hash: ref.hash,
      size: ref.data.length,
      type: "text/plain",
      gzip: { hash: gz.hash, size: gz.data.length },
    };
    await w.artifacts.putManifest(m);
    backdate(w.dir, 2 * HOUR, ref, gz, garbage);

    const report = await collectGarbage(w, KEEP_PREVIEWS);
    expect(report).toEqual({ expiredPreviews: 0, deletedManifests: 0, deletedBlobs: 1, keptBlobs: 3 });
    expect(await stored(w.artifacts, ref, gz, garbage, young)).toEqual([true, true, false, true]);
    // Idempotent: nothing more to do.
    expect((await collectGarbage(w, KEEP_PREVIEWS)).deletedBlobs).toBe(0);
  });

  test("manifests of gone, failed or canceled deployments go (after the grace period), with their blobs", async () => {
    const w = await world();
    const [live, canceled, orphan] = [blob("live"), blob("canceled"), blob("orphan")];
    const [source, foreign, fresh] = [blob("source"), blob("foreign"), blob("fresh")];
    await put(w.artifacts, live, canceled, orphan, source, foreign, fresh);
    backdate(w.dir, 2 * HOUR, live, canceled, orphan, source, foreign, fresh);
    const old = new Date(Date.now() - 2 * HOUR);

    const alive = await deployment(w, w.project);
    const dead = await deployment(w, w.project);
    await w.store.deployments.transition(dead.id, "CANCELED", "test");
    const deadRecently = await deployment(w, w.project);
    await w.store.deployments.transition(deadRecently.id, "CANCELED", "test");
    const gone = crypto.randomUUID();
    await w.artifacts.putManifest(manifestOf(alive.id, [live], old));
    await w.artifacts.putManifest(manifestOf(dead.id, [canceled], old));
    await w.artifacts.putManifest(manifestOf(gone, [orphan], old));
    // An uploaded source tree belongs to the deployment whose id it ends with; an id naming none is kept.
    await w.artifacts.putManifest(manifestOf(`source-${alive.id}`, [source], old));
    await w.artifacts.putManifest(manifestOf("not-a-deployment", [foreign], old));
    // Dead, but written moments ago: inside the grace period.
    await w.artifacts.putManifest(manifestOf(deadRecently.id, [fresh]));
    const logged = await withRuntimeLines(w.runtimeLogs, alive.id, dead.id, gone, deadRecently.id);

    const report = await collectGarbage(w, KEEP_PREVIEWS);
    expect(report.deletedManifests).toBe(2);
    // The runtime lines of the two deleted manifests' deployments went with them.
    expect(await logged()).toEqual([true, false, false, true]);
    expect(await w.artifacts.getManifest(dead.id)).toBeNull();
    expect(await w.artifacts.getManifest(gone)).toBeNull();
    for (const id of [alive.id, `source-${alive.id}`, "not-a-deployment", deadRecently.id]) {
      expect(await w.artifacts.getManifest(id)).not.toBeNull();
    }
    expect(await stored(w.artifacts, live, canceled, orphan, source, foreign, fresh)).toEqual([
      true,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  test("old previews expire: row marked, manifest and unshared blobs deleted; production and branch heads stay", async () => {
    const w = await world();
    const [shared, onlyOld, onlyNew, prodOnly] = [blob("shared"), blob("old"), blob("new"), blob("prod")];
    await put(w.artifacts, shared, onlyOld, onlyNew, prodOnly);
    const prod = await deployment(w, w.project, { ready: true, target: "production" });
    const older = await deployment(w, w.project, { ready: true, branch: "feature" });
    const newer = await deployment(w, w.project, { ready: true, branch: "feature" });
    await w.artifacts.putManifest(manifestOf(prod.id, [prodOnly]));
    await w.artifacts.putManifest(manifestOf(older.id, [shared, onlyOld]));
    await w.artifacts.putManifest(manifestOf(newer.id, [shared, onlyNew]));
    const logged = await withRuntimeLines(w.runtimeLogs, prod.id, older.id, newer.id);

    // Retention 0: every preview created before now is past it. Grace 0: blobs go at once.
    const report = await collectGarbage(w, { graceMs: 0, previewRetentionMs: 0 });
    expect(report.expiredPreviews).toBe(1);
    expect((await w.store.deployments.find(older.id))?.expiredAt).not.toBeNull();
    expect((await w.store.deployments.find(older.id))?.status).toBe("READY");
    expect((await w.store.deployments.find(newer.id))?.expiredAt).toBeNull();
    expect(await w.artifacts.getManifest(older.id)).toBeNull();
    expect(await w.artifacts.getManifest(newer.id)).not.toBeNull();
    expect(await w.artifacts.getManifest(prod.id)).not.toBeNull();
    expect(await stored(w.artifacts, shared, onlyOld, onlyNew, prodOnly)).toEqual([true, false, true, true]);
    expect(await logged()).toEqual([true, false, true]);
    // A retention longer than the previews' age expires nothing.
    expect((await collectGarbage(w, { graceMs: 0, previewRetentionMs: HOUR })).expiredPreviews).toBe(0);
  });

  test("a deleted blob's upload claims go with it: its uploader must send the bytes again", async () => {
    const w = await world();
    const [kept, garbage] = [blob("kept"), blob("garbage")];
    await put(w.artifacts, kept, garbage);
    await w.store.blobClaims.add(w.userId, [kept.hash, garbage.hash]);
    const d = await deployment(w, w.project);
    await w.artifacts.putManifest(manifestOf(d.id, [kept]));
    await Bun.sleep(5);
    // Grace 0: what was stored and claimed before now is old enough.
    expect((await collectGarbage(w, { graceMs: 0, previewRetentionMs: null })).deletedBlobs).toBe(1);
    expect(await w.store.blobClaims.unclaimed(w.userId, [kept.hash, garbage.hash])).toEqual([garbage.hash]);
  });

  test("an upload reusing an old unreferenced blob keeps it through a collection before its manifest", async () => {
    const w = await world();
    const [reused, abandoned] = [blob("reused"), blob("abandoned")];
    await put(w.artifacts, reused, abandoned);
    backdate(w.dir, 2 * HOUR, reused, abandoned);
    const d = await deployment(w, w.project);

    // The upload's check claims the blob it will not store again...
    expect(await w.artifacts.missing([reused.hash])).toEqual([]);
    // ...a collection runs before its manifest lands...
    expect((await collectGarbage(w, KEEP_PREVIEWS)).deletedBlobs).toBe(1);
    // ...and the manifest still finds its blob; the unclaimed one was collected.
    await w.artifacts.putManifest(manifestOf(d.id, [reused]));
    expect(await stored(w.artifacts, reused, abandoned)).toEqual([true, false]);
  });
});

test("stress: concurrent uploads and collections never lose a referenced blob", async () => {
  const w = await world();
  const options: GcOptions = { graceMs: 10_000, previewRetentionMs: null };
  // Old unreferenced blobs: uploads reuse half of them (each one a deletion candidate until claimed).
  const garbage = Array.from({ length: 60 }, (_, i) => blob(`garbage ${i}`));
  await put(w.artifacts, ...garbage);
  backdate(w.dir, 2 * HOUR, ...garbage);
  const reusable = garbage.slice(0, 30);
  const untouched = garbage.slice(30);
  const known = new Map(garbage.map((b) => [b.hash, b]));
  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;

  const upload = async (n: number) => {
    const d = await deployment(w, w.project);
    const fresh = Array.from({ length: 3 }, (_, i) => blob(`upload ${n} file ${i}`));
    for (const b of fresh) known.set(b.hash, b);
    // Blobs of other uploads too, some of which may not be stored yet.
    const files = [...fresh, pick(reusable), pick(reusable), pick([...known.values()])];
    const missing = await w.artifacts.missing(files.map((b) => b.hash));
    for (const hash of missing) {
      const b = known.get(hash);
      if (b) await w.artifacts.putBlob(b.hash, b.data);
    }
    await Bun.sleep(Math.random() * 20);
    await w.artifacts.putManifest(manifestOf(d.id, files));
  };

  let uploading = true;
  const collections = (async () => {
    let runs = 0;
    while (uploading) {
      await collectGarbage(w, options);
      runs += 1;
    }
    return runs;
  })();
  const uploads: Promise<void>[] = [];
  // Spread over about a second, so that many collections overlap many uploads.
  for (let n = 0; n < 100; n += 1) {
    uploads.push(upload(n));
    if (n % 2 === 0) await Bun.sleep(20);
  }
  await Promise.all(uploads).finally(() => {
    uploading = false;
  });
  // Several collections overlapped the uploads (fewer on a busy machine, where each one takes longer).
  expect(await collections).toBeGreaterThanOrEqual(3);

  const referenced = new Set<string>();
  for await (const id of w.artifacts.listManifests()) {
    const manifest = await w.artifacts.getManifest(id);
    for (const file of Object.values(manifest?.files ?? {}))
      for (const b of blobsOf(file)) referenced.add(b.hash);
  }
  expect(referenced.size).toBeGreaterThan(300);
  const lost = (await w.artifacts.missing([...referenced])).length;
  expect(lost).toBe(0);
  // With the uploads done, the old garbage no manifest took is gone; what they took stays.
  await collectGarbage(w, options);
  expect((await stored(w.artifacts, ...untouched)).filter((s) => !s)).toHaveLength(
    untouched.filter((b) => !referenced.has(b.hash)).length,
  );
  expect(await w.artifacts.missing([...referenced])).toEqual([]);
});

describe("deleteProject", () => {
  let deps: Deps | null = null;
  afterEach(async () => {
    await deps?.close();
    deps = null;
  });

  test("removes the project's deployments, logs, manifests and unshared blobs; shared blobs stay", async () => {
    const base = await testDeps();
    deps = base;
    // Grace 0 for the test, so the collection after the deletion can take blobs stored moments ago.
    const gc = createCollector(base, { graceMs: 0, previewRetentionMs: null });
    const user = await base.store.users.create({
      email: `gc-${crypto.randomUUID()}@example.com`,
      passwordHash: null,
    });
    const w = { store: base.store, userId: user.id };
    const doomed = await newProject(base.store, user.id);
    const other = await newProject(base.store, user.id);
    const [shared, own1, own2, theirs] = [blob("shared"), blob("own 1"), blob("own 2"), blob("theirs")];
    await put(base.artifacts, shared, own1, own2, theirs);
    const d1 = await deployment(w, doomed, { ready: true, target: "production" });
    const d2 = await deployment(w, doomed, { ready: true, branch: "feature" });
    const kept = await deployment(w, other, { ready: true, target: "production" });
    await base.artifacts.putManifest(manifestOf(d1.id, [shared, own1]));
    await base.artifacts.putManifest(manifestOf(d2.id, [own2]));
    await base.artifacts.putManifest(manifestOf(kept.id, [shared, theirs]));
    await base.logs.append([
      { deploymentId: d1.id, seq: 1, stream: "stdout", text: "built", at: new Date().toISOString() },
    ]);
    const logged = await withRuntimeLines(base.runtimeLogs, d1.id, d2.id, kept.id);

    await deleteProject({ ...base, gc }, user.id, doomed.id);
    await gc.idle();

    expect(await base.store.projects.find(doomed.id)).toBeNull();
    expect(await base.store.deployments.find(d1.id)).toBeNull();
    expect(await base.store.deployments.find(d2.id)).toBeNull();
    expect(await base.logs.read(d1.id, 0, 10)).toEqual([]);
    expect(await logged()).toEqual([false, false, true]);
    expect(await base.artifacts.getManifest(d1.id)).toBeNull();
    expect(await base.artifacts.getManifest(d2.id)).toBeNull();
    expect(await base.artifacts.getManifest(kept.id)).not.toBeNull();
    expect(await stored(base.artifacts, shared, own1, own2, theirs)).toEqual([true, false, false, true]);
  });
});

describe("collector", () => {
  test("a run asked for during a run is one more run after it, shared by every caller meanwhile", async () => {
    const w = await world();
    const gc = createCollector(w, KEEP_PREVIEWS);
    const first = gc.run();
    const second = gc.run();
    const third = gc.run();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
    await gc.idle();
  });

  test("the periodic collection runs until stopped", async () => {
    const w = await world();
    const garbage = blob("periodic");
    await put(w.artifacts, garbage);
    backdate(w.dir, 2 * HOUR, garbage);
    const periodic = startPeriodicGc(createCollector(w, KEEP_PREVIEWS), 10);
    for (let i = 0; i < 100 && (await w.artifacts.getBlob(garbage.hash)) !== null; i += 1)
      await Bun.sleep(10);
    await periodic.stop();
    expect(await w.artifacts.getBlob(garbage.hash)).toBeNull();
  });

  test("a background run that deleted something logs its report at info", async () => {
    const w = await world();
    const garbage = blob("summary");
    await put(w.artifacts, garbage);
    backdate(w.dir, 2 * HOUR, garbage);
    const gc = createCollector(w, KEEP_PREVIEWS);
    gc.trigger();
    await gc.idle();
    expect(w.logged).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "gc: collected",
        expiredPreviews: 0,
        deletedManifests: 0,
        deletedBlobs: 1,
        keptBlobs: 0,
        durationMs: expect.any(Number),
      }),
    ]);
  });

  test("a background run that found nothing logs only at debug", async () => {
    const w = await world();
    const gc = createCollector(w, KEEP_PREVIEWS);
    gc.trigger();
    await gc.idle();
    expect(w.logged.map((l) => [l.level, l.msg])).toEqual([["debug", "gc: collected"]]);
  });

  test("a background run that fails logs the error and does not throw", async () => {
    const w = await world();
    const broken: Artifacts = {
      ...w.artifacts,
      listManifests: () => {
        throw new Error("the disk is gone");
      },
    };
    const gc = createCollector({ ...w, artifacts: broken }, KEEP_PREVIEWS);
    gc.trigger();
    await gc.idle();
    expect(w.logged).toEqual([
      expect.objectContaining({
        level: "error",
        msg: "gc: failed, will retry on the next run",
        error: expect.objectContaining({ message: "the disk is gone" }),
      }),
    ]);
  });
});

// What backup and restore refuse: damaged or forged archives, a damaged artifact store, files that vanish
// under a running backup. Every refusal leaves nothing behind.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { linkSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import type { Manifest } from "../store/artifacts.ts";
import { DATA_FORMAT } from "../store/data-format.ts";
import { tempDir, testDeps, testUser } from "../testing/deps.ts";
import { createBackup } from "./backup.ts";
import { backupContents, Moved } from "./contents.ts";
import { BACKUP_FORMAT, FILES_ENTRY, HEADER_ENTRY, latestSchema } from "./format.ts";
import type { Output } from "./meter.ts";
import { restoreBackup } from "./restore.ts";
import { snapshotDatabase } from "./snapshot.ts";
import { tarEnd, tarFile, toStream } from "./tar.ts";

const quiet: Output = { isTTY: false, write: () => {} };
const encode = (text: string) => new TextEncoder().encode(text);
const sha = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

let deps: Deps;
let good = "";
let goodBytes = new Uint8Array();

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

/** A .tar.gz with the given entries, in order (nothing added). */
async function craft(entries: { path: string; data: Uint8Array }[], end = true): Promise<string> {
  async function* tar() {
    for (const e of entries) yield* tarFile(e.path, e.data.length, [e.data]);
    if (end) yield tarEnd();
  }
  const file = join(tempDir("minivercel-crafted-"), "backup.tar.gz");
  const gz = toStream(tar()).pipeThrough(new CompressionStream("gzip"));
  await Bun.write(file, new Response(gz));
  return file;
}

const header = (schemaVersion = latestSchema()) => ({
  path: HEADER_ENTRY,
  data: encode(
    JSON.stringify({
      format: BACKUP_FORMAT,
      minivercelVersion: "9.9.9",
      schemaVersion,
      createdAt: new Date().toISOString(),
      dataDir: "/nowhere",
      secretKey: "file",
    }),
  ),
});
const list = (files: { path: string; data: Uint8Array; sha256?: string }[]) => ({
  path: FILES_ENTRY,
  data: encode(
    JSON.stringify({
      files: files.map((f) => ({ path: f.path, size: f.data.length, sha256: f.sha256 ?? sha(f.data) })),
    }),
  ),
});

/** Restores into a fresh target and expects a 400 naming `why`; the target must not exist afterwards. */
async function refused(file: string, why: RegExp): Promise<void> {
  const parent = tempDir("minivercel-refused-");
  const target = join(parent, "data");
  const error = await failure(
    restoreBackup({ file, dataDir: target, force: false, secretKeyFromEnv: false, out: quiet }),
  );
  expect(error.status).toBe(400);
  expect(error.message).toMatch(why);
  // Nothing created: no target, no half-restored temp directory, nothing written outside.
  expect(readdirSync(parent)).toEqual([]);
}

beforeAll(async () => {
  deps = await testDeps();
  await testUser(deps);
  good = join(tempDir("minivercel-good-"), "backup.tar.gz");
  await createBackup({ dataDir: deps.config.dataDir, file: good, secretKeyFromEnv: false, out: quiet });
  goodBytes = new Uint8Array(readFileSync(good));
});
afterAll(async () => {
  await deps.close();
});

describe("restore refuses", () => {
  test("a truncated archive", async () => {
    const file = join(tempDir("minivercel-cut-"), "cut.tar.gz");
    writeFileSync(file, goodBytes.subarray(0, Math.floor(goodBytes.length / 2)));
    await refused(file, /corrupted or truncated/);
  });

  test("an archive with a damaged byte", async () => {
    const file = join(tempDir("minivercel-flip-"), "flip.tar.gz");
    const damaged = goodBytes.slice();
    const at = Math.floor(damaged.length / 2);
    damaged[at] = (damaged[at] ?? 0) ^ 0xff;
    writeFileSync(file, damaged);
    await refused(file, /not a usable minivercel backup/);
  });

  test("a file that does not match the archive's checksum list", async () => {
    const db = { path: "minivercel.db", data: encode("not what the list says") };
    await refused(
      await craft([header(), db, list([{ ...db, sha256: sha("other") }])]),
      /does not match its checksum/,
    );
  });

  test("an archive whose file list is missing (cut at an entry boundary)", async () => {
    await refused(
      await craft([header(), { path: "secret.key", data: encode("k") }]),
      /file list at its end is missing/,
    );
  });

  test("a schema newer than this binary", async () => {
    await refused(await craft([header(latestSchema() + 1), list([])]), /newer than this binary supports/);
  });

  test("something that is not a minivercel backup", async () => {
    const other = { path: "notes.txt", data: encode("hello") };
    await refused(await craft([other, list([other])]), /does not start with a minivercel backup header/);
  });

  test("a path outside the data directory", async () => {
    const evil = { path: "../evil", data: encode("pwned") };
    await refused(await craft([header(), evil, list([evil])]), /disallowed path/);
  });

  test("absolute paths, and paths climbing out through a repository", async () => {
    for (const path of ["/etc/cron.d/evil", "git/x.git/../../../evil", "artifacts//x", "a\\..\\evil"]) {
      const evil = { path, data: encode("pwned") };
      await refused(await craft([header(), evil, list([evil])]), /disallowed path/);
    }
  });

  test("symbolic and hard links (as GNU tar writes them)", async () => {
    const dir = tempDir("minivercel-links-");
    writeFileSync(join(dir, HEADER_ENTRY), header().data);
    writeFileSync(join(dir, "secret.key"), "k");
    symlinkSync("/etc", join(dir, "git"));
    linkSync(join(dir, "secret.key"), join(dir, "minivercel.db"));
    for (const [member, type] of [
      ["git", "2"],
      ["minivercel.db", "1"],
    ]) {
      const file = join(tempDir("minivercel-linked-"), "linked.tar");
      // The hard link's target goes first, so tar records the second name as a link to it.
      const members = [HEADER_ENTRY, "secret.key", member ?? ""];
      expect(Bun.spawnSync(["tar", "--format=pax", "-cf", file, "-C", dir, ...members]).exitCode).toBe(0);
      await refused(file, new RegExp(`unsupported type '${type}'`));
    }
  });

  test("a push repository with a file where git keeps a folder", async () => {
    const pack = { path: "git/p.git/objects/pack", data: encode("not a folder") };
    await refused(
      await craft([header(), pack, list([pack])]),
      /git\/p\.git is not laid out as a git repository/,
    );
  });

  test("a push repository whose config git cannot read", async () => {
    const config = { path: "git/p.git/config", data: encode("[core\n\thooksPath = /tmp\n") };
    await refused(await craft([header(), config, list([config])]), /git\/p\.git\/config is not a git config/);
  });

  test("a data directory format newer than this binary", async () => {
    const copy = join(tempDir("minivercel-db-"), "minivercel.db");
    snapshotDatabase(deps.config.store.kind === "sqlite" ? deps.config.store.path : "", copy);
    const db = { path: "minivercel.db", data: new Uint8Array(readFileSync(copy)) };
    const marker = { path: "minivercel.json", data: encode(JSON.stringify({ format: DATA_FORMAT + 1 })) };
    await refused(await craft([header(), db, marker, list([db, marker])]), /data format \d+ is newer/);
  });

  test("a checksummed archive without a database", async () => {
    await refused(await craft([header(), list([])]), /has no database/);
  });
});

describe("backup refuses", () => {
  test("a directory without a database, and writes nothing", async () => {
    const out = tempDir("minivercel-out-");
    const error = await failure(
      createBackup({ dataDir: tempDir(), file: join(out, "b.tar.gz"), secretKeyFromEnv: false, out: quiet }),
    );
    expect(error.status).toBe(400);
    expect(readdirSync(out)).toEqual([]);
  });

  test("a damaged artifact store, leaving no partial archive", async () => {
    const { user } = await testUser(deps);
    const { createProject } = await import("../deploy/projects.ts");
    const project = await createProject(deps.store, deps.config, user.id, { name: "Damaged" });
    const d = await deps.store.deployments.create({
      projectId: project.id,
      userId: user.id,
      status: "IN_PROGRESS",
      target: "preview",
      branch: null,
      commitSha: null,
    });
    const text = encode("original bytes");
    await deps.artifacts.putBlob(sha(text), text);
    const manifest: Manifest = {
      version: 1,
      deploymentId: d.id,
      createdAt: new Date().toISOString(),
      files: {},
    };
    manifest.files["/f"] = { hash: sha(text), size: text.length, type: "text/plain" };
    await deps.artifacts.putManifest(manifest);
    await deps.store.deployments.markReady(d.id);
    // Same size, other bytes: only the hash check can tell.
    const blob = join(deps.config.dataDir, "artifacts", "blobs", sha(text).slice(0, 2), sha(text).slice(2));
    const handle = await open(blob, "r+");
    await handle.write(encode("ORIGINAL BYTES"), 0, 14, 0);
    await handle.close();

    const out = tempDir("minivercel-out-");
    const file = join(out, "b.tar.gz");
    const error = await failure(
      createBackup({ dataDir: deps.config.dataDir, file, secretKeyFromEnv: false, out: quiet }),
    );
    expect(error.message).toContain("artifact store is damaged");
    expect(readdirSync(dirname(file))).toEqual([]);
  });
});

describe("backup of a changing store", () => {
  const facts = {
    schemaVersion: 1,
    live: new Set(["11111111-2222-3333-4444-555555555555"]),
    ready: new Set(["11111111-2222-3333-4444-555555555555"]),
  };

  test("a READY deployment's files gone since the snapshot mean a fresh snapshot", async () => {
    const ctx = {
      dataDir: tempDir(),
      work: tempDir(),
      facts,
      last: false,
      skip: new Set<string>(),
      warn: () => {},
    };
    const read = async () => {
      for await (const item of backupContents(ctx)) void item;
    };
    await expect(read()).rejects.toBeInstanceOf(Moved);
  });

  test("on the last attempt they are a warning, and the backup completes", async () => {
    const warnings: string[] = [];
    const ctx = {
      dataDir: tempDir(),
      work: tempDir(),
      facts,
      last: true,
      skip: new Set<string>(),
      warn: (m: string) => void warnings.push(m),
    };
    for await (const item of backupContents(ctx)) void item;
    expect(warnings).toEqual([expect.stringContaining("1 READY deployment(s) have no files")]);
  });
});

// Backup step 1: consistent copies of the live sqlite databases, and what the copy says must be kept.

import { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";

/**
 * Copies a database another process may be writing: `VACUUM INTO` reads inside one transaction, so the copy
 * is the database as of one moment (WAL included), never a torn file. Works on a read-only connection.
 */
export function snapshotDatabase(source: string, target: string): void {
  rmSync(target, { force: true });
  const db = new Database(source, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.query("VACUUM INTO ?").run(target);
  } finally {
    db.close();
  }
}

/** What a snapshot of the main database needs from the artifact store. */
export interface SnapshotFacts {
  schemaVersion: number;
  /** Deployments whose files may still be served or built: not failed, canceled or expired. */
  live: Set<string>;
  /** Of those, the READY ones: their manifests must be in the backup. */
  ready: Set<string>;
}

interface DeploymentRow {
  id: string;
  status: string;
  expired_at: string | null;
}

/**
 * Reads the snapshot directly (read-only, our own schema): the store port has no "every deployment" query,
 * and a backup must not depend on a server's API.
 */
export function snapshotFacts(path: string): SnapshotFacts {
  if (!existsSync(path)) throw new Error(`snapshot ${path} is missing`);
  const db = new Database(path, { readonly: true });
  try {
    const version = db
      .query<{ v: number | null }, []>("SELECT max(version) AS v FROM schema_migrations")
      .get();
    const live = new Set<string>();
    const ready = new Set<string>();
    for (const row of db.query<DeploymentRow, []>("SELECT id, status, expired_at FROM deployments").all()) {
      if (row.expired_at !== null || row.status === "FAIL" || row.status === "CANCELED") continue;
      live.add(row.id);
      if (row.status === "READY") ready.add(row.id);
    }
    return { schemaVersion: Number(version?.v ?? 0), live, ready };
  } finally {
    db.close();
  }
}

/**
 * Points push-to-deploy projects at their remote in the restored data directory: their git URL is the
 * absolute file:// path of <data>/git/<project>.git, which moved if the directory did.
 */
export function moveGitRemotes(path: string, from: string, to: string): number {
  if (from === to) return 0;
  const db = new Database(path, { strict: true });
  try {
    const result = db
      .query("UPDATE projects SET git_url = $to || id || '.git' WHERE git_url = $from || id || '.git'")
      .run({ from: `file://${from}/git/`, to: `file://${to}/git/` });
    return result.changes;
  } finally {
    db.close();
  }
}

/** True when sqlite finds the restored file sound (a truncated or damaged database fails here, before use). */
export function databaseIsSound(path: string): boolean {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get();
    return row?.integrity_check === "ok";
  } catch {
    return false;
  } finally {
    db.close();
  }
}

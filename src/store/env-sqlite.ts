// Store: project environment variables per target, stored sealed (src/store/store.ts), on bun:sqlite.

import type { Database } from "bun:sqlite";
import type { DeploymentTarget } from "../model/entities.ts";
import { sqliteQueries } from "./query-sqlite.ts";
import { nowIso, toEnvVar } from "./rows.ts";
import type { ProjectEnv } from "./store.ts";

/** The 0/1 columns a set of targets is stored as. */
const flags = (targets: DeploymentTarget[]) =>
  [targets.includes("production") ? 1 : 0, targets.includes("preview") ? 1 : 0] as const;

export function sqliteEnv(db: Database): ProjectEnv {
  const { all, run } = sqliteQueries(db);

  /** Takes `key` off `targets`: its rows holding only those go, rows shared with another target keep that one. */
  const release = (projectId: string, key: string, targets: DeploymentTarget[]): number => {
    const [production, preview] = flags(targets);
    let changed = run(
      "DELETE FROM project_env WHERE project_id = ? AND key = ? AND production <= ? AND preview <= ?",
      projectId,
      key,
      production,
      preview,
    ).changes;
    if (production)
      changed += run(
        "UPDATE project_env SET production = 0 WHERE project_id = ? AND key = ? AND production = 1",
        projectId,
        key,
      ).changes;
    if (preview)
      changed += run(
        "UPDATE project_env SET preview = 0 WHERE project_id = ? AND key = ? AND preview = 1",
        projectId,
        key,
      ).changes;
    return changed;
  };

  const set = db.transaction(
    (projectId: string, key: string, targets: DeploymentTarget[], valueEncrypted: string) => {
      const [production, preview] = flags(targets);
      const at = nowIso();
      // The same targets as before: a new value in place.
      const replaced = run(
        `UPDATE project_env SET value_encrypted = ?, updated_at = ?
         WHERE project_id = ? AND key = ? AND production = ? AND preview = ?`,
        valueEncrypted,
        at,
        projectId,
        key,
        production,
        preview,
      ).changes;
      if (replaced > 0) return;
      release(projectId, key, targets);
      run(
        `INSERT INTO project_env (project_id, key, production, preview, value_encrypted, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        projectId,
        key,
        production,
        preview,
        valueEncrypted,
        at,
        at,
      );
    },
  );
  const remove = db.transaction((projectId: string, key: string, targets: DeploymentTarget[]) =>
    release(projectId, key, targets),
  );

  return {
    async set(projectId, key, targets, valueEncrypted) {
      set(projectId, key, targets, valueEncrypted);
    },
    async list(projectId) {
      return all(
        "SELECT * FROM project_env WHERE project_id = ? ORDER BY key, production DESC",
        projectId,
      ).map(toEnvVar);
    },
    async remove(projectId, key, targets) {
      return remove(projectId, key, targets) > 0;
    },
  };
}

// Scoped uploads, store: claims on bun:sqlite.

import type { Database } from "bun:sqlite";
import { chunks } from "../utils/chunks.ts";
import { type BlobClaims, CLAIM_CHUNK } from "./blob-claims.ts";
import { type Params, sqliteQueries } from "./query-sqlite.ts";
import { nowIso } from "./rows.ts";

const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");

export function sqliteBlobClaims(db: Database): BlobClaims {
  const { all, run } = sqliteQueries(db);
  return {
    async add(scopeId, hashes) {
      const at = nowIso();
      db.transaction(() => {
        for (const part of chunks([...new Set(hashes)], CLAIM_CHUNK)) {
          run(
            `INSERT INTO blob_claims (scope_id, hash, claimed_at) VALUES ${part.map(() => "(?, ?, ?)").join(", ")}
             ON CONFLICT (scope_id, hash) DO UPDATE SET claimed_at = excluded.claimed_at`,
            ...part.flatMap((hash): Params => [scopeId, hash, at]),
          );
        }
      })();
    },
    async unclaimed(scopeId, hashes) {
      const wanted = [...new Set(hashes)];
      const held = new Set<string>();
      for (const part of chunks(wanted, CLAIM_CHUNK)) {
        const rows = all(
          `SELECT hash FROM blob_claims WHERE scope_id = ? AND hash IN (${marks(part.length)})`,
          scopeId,
          ...part,
        );
        for (const row of rows) held.add(String(row.hash));
      }
      return wanted.filter((hash) => !held.has(hash));
    },
    async forget(hashes, claimedBefore) {
      for (const part of chunks([...new Set(hashes)], CLAIM_CHUNK))
        run(
          `DELETE FROM blob_claims WHERE hash IN (${marks(part.length)}) AND claimed_at < ?`,
          ...part,
          claimedBefore.toISOString(),
        );
    },
  };
}

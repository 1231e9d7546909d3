// Scoped uploads, store: claims on PostgreSQL.

import type postgres from "postgres";
import { chunks } from "../utils/chunks.ts";
import { type BlobClaims, CLAIM_CHUNK } from "./blob-claims.ts";
import { nowIso, type Row } from "./rows.ts";

export function postgresBlobClaims(sql: postgres.Sql): BlobClaims {
  return {
    async add(scopeId, hashes) {
      const at = nowIso();
      for (const part of chunks([...new Set(hashes)], CLAIM_CHUNK)) {
        await sql`
          INSERT INTO blob_claims ${sql(part.map((hash) => ({ scope_id: scopeId, hash, claimed_at: at })))}
          ON CONFLICT (scope_id, hash) DO UPDATE SET claimed_at = excluded.claimed_at`;
      }
    },
    async unclaimed(scopeId, hashes) {
      const wanted = [...new Set(hashes)];
      const held = new Set<string>();
      for (const part of chunks(wanted, CLAIM_CHUNK)) {
        const rows = await sql<Row[]>`
          SELECT hash FROM blob_claims WHERE scope_id = ${scopeId} AND hash IN ${sql(part)}`;
        for (const row of rows) held.add(String(row.hash));
      }
      return wanted.filter((hash) => !held.has(hash));
    },
    async forget(hashes, claimedBefore) {
      for (const part of chunks([...new Set(hashes)], CLAIM_CHUNK))
        await sql`DELETE FROM blob_claims WHERE hash IN ${sql(part)} AND claimed_at < ${claimedBefore.toISOString()}`;
    },
  };
}

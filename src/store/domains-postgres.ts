// Store: a project's custom domains (src/store/domains.ts) on PostgreSQL, and the claim rules the projects
// repository applies to its customDomain (the first domain) inside its own transactions.

import type postgres from "postgres";
import { conflict, domainLimit, domainTaken } from "../errors.ts";
import { assertRedirect, DEFAULT_REDIRECT_STATUS, type ProjectDomain } from "../model/domains.ts";
import type { DomainVerifiedResult, ProjectDomains } from "./domains.ts";
import { first, uniqueViolation } from "./query-postgres.ts";
import { nowIso, type Row, str, toDomain } from "./rows.ts";

type Tx = postgres.TransactionSql;
type Positioned = ProjectDomain & { position: number };

/**
 * Serializes everything that claims or verifies a custom domain (across processes) until the transaction ends:
 * a save then sees a verification that committed before it, and of two verifications the second sees the first.
 * One lock for all domains, not one per domain: a save that moves a project from one domain to another while
 * another project moves the other way would otherwise wait on each other's rows (a deadlock). Domain changes are
 * rare, and the lock is held for a few statements.
 */
export const lockDomains = (tx: Tx) =>
  tx`SELECT pg_advisory_xact_lock(hashtext(${"minivercel:custom-domains"}))`;

/** The claim statements; each runs in the caller's transaction, which holds lockDomains. */
export const postgresDomainClaims = {
  /** The project's domains in order, each with its position (the first one is the primary). */
  async list(tx: Tx | postgres.Sql, projectId: string): Promise<Positioned[]> {
    const rows = await tx<Row[]>`
      SELECT * FROM project_domains WHERE project_id = ${projectId} ORDER BY position, domain`;
    return rows.map((row) => ({ ...toDomain(row), position: Number(row.position) }));
  },

  async heldElsewhere(tx: Tx, projectId: string, name: string): Promise<boolean> {
    return (
      (await first(tx<Row[]>`
        SELECT 1 AS held FROM project_domains
        WHERE project_id <> ${projectId} AND domain = ${name} AND verified_at IS NOT NULL LIMIT 1`)) !== null
    );
  },

  /** `projectId` now holds `name` verified: the other projects' claims, redirects to it and proofs of it go. */
  async displace(tx: Tx, projectId: string, name: string): Promise<string[]> {
    const claims = await tx<Row[]>`
      DELETE FROM project_domains WHERE project_id <> ${projectId} AND domain = ${name} RETURNING project_id`;
    await tx`
      UPDATE project_domains SET redirect_to = NULL, redirect_status = NULL
      WHERE project_id <> ${projectId} AND redirect_to = ${name}`;
    const proofs = await tx<Row[]>`
      DELETE FROM project_domain_proofs WHERE project_id <> ${projectId} AND domain = ${name} RETURNING project_id`;
    const touched = claims.map((r) => str(r, "project_id"));
    if (touched.length > 0) await tx`UPDATE projects SET updated_at = ${nowIso()} WHERE id IN ${tx(touched)}`;
    return [...new Set([...claims, ...proofs].map((r) => str(r, "project_id")))];
  },

  async prove(tx: Tx, projectId: string, name: string, at: string): Promise<void> {
    await tx`
      INSERT INTO project_domain_proofs (project_id, domain, verified_at) VALUES (${projectId}, ${name}, ${at})
      ON CONFLICT (project_id, domain) DO UPDATE SET verified_at = excluded.verified_at`;
  },

  async verify(tx: Tx, projectId: string, name: string, field: string): Promise<DomainVerifiedResult | null> {
    if (await postgresDomainClaims.heldElsewhere(tx, projectId, name)) throw domainTaken(field);
    const row = await first(tx<Row[]>`
      UPDATE project_domains SET verified_at = coalesce(verified_at, ${nowIso()})
      WHERE project_id = ${projectId} AND domain = ${name} RETURNING *`);
    if (!row) return null;
    const domain = toDomain(row);
    await postgresDomainClaims.prove(tx, projectId, name, domain.verifiedAt ?? nowIso());
    return { domain, displaced: await postgresDomainClaims.displace(tx, projectId, name) };
  },

  /** Inserts a claim: verified at once when trusted or proved before by this project (then displacing others). */
  async claim(
    tx: Tx,
    projectId: string,
    input: Pick<ProjectDomain, "name" | "redirectTo" | "redirectStatus"> & { position: number },
    trust: boolean,
    field: string,
  ): Promise<ProjectDomain> {
    if (await postgresDomainClaims.heldElsewhere(tx, projectId, input.name)) throw domainTaken(field);
    const proof = await first(tx<Row[]>`
      SELECT verified_at FROM project_domain_proofs WHERE project_id = ${projectId} AND domain = ${input.name}`);
    const at = nowIso();
    const verifiedAt = proof ? str(proof, "verified_at") : trust ? at : null;
    const row = await first(tx<Row[]>`
      INSERT INTO project_domains (project_id, domain, position, verified_at, redirect_to, redirect_status, created_at)
      VALUES (${projectId}, ${input.name}, ${input.position}, ${verifiedAt}, ${input.redirectTo},
        ${input.redirectTo === null ? null : input.redirectStatus}, ${at})
      RETURNING *`);
    if (verifiedAt !== null) {
      await postgresDomainClaims.prove(tx, projectId, input.name, verifiedAt);
      await postgresDomainClaims.displace(tx, projectId, input.name);
    }
    return toDomain(row ?? {});
  },

  /** Removes a domain; the project's redirects to it stop (those domains serve the site again). */
  async drop(tx: Tx, projectId: string, name: string): Promise<boolean> {
    const gone = await tx`DELETE FROM project_domains WHERE project_id = ${projectId} AND domain = ${name}`;
    await tx`
      UPDATE project_domains SET redirect_to = NULL, redirect_status = NULL
      WHERE project_id = ${projectId} AND redirect_to = ${name}`;
    return gone.count > 0;
  },

  /**
   * The project's customDomain saved as `value`: null removes the first domain; a new name replaces it (in its
   * place); a name the project has further down moves up in its place.
   */
  async setPrimary(
    tx: Tx,
    projectId: string,
    value: string | null,
    trust: boolean,
    max: number,
  ): Promise<void> {
    const claims = postgresDomainClaims;
    const domains = await claims.list(tx, projectId);
    const primary = domains[0];
    if (value === null) {
      if (primary) await claims.drop(tx, projectId, primary.name);
      return;
    }
    const name = value.toLowerCase();
    const existing = domains.find((d) => d.name === name);
    if (existing && existing !== primary) {
      if (primary) await claims.drop(tx, projectId, primary.name);
      await tx`
        UPDATE project_domains SET position = ${primary?.position ?? 0}
        WHERE project_id = ${projectId} AND domain = ${name}`;
    }
    if (existing) {
      if (existing.verifiedAt !== null) return;
      if (await claims.heldElsewhere(tx, projectId, name)) throw domainTaken();
      if (trust) await claims.verify(tx, projectId, name, "customDomain");
      return;
    }
    if (!primary && max > 0 && domains.length >= max) throw domainLimit(max);
    if (await claims.heldElsewhere(tx, projectId, name)) throw domainTaken();
    if (primary) await claims.drop(tx, projectId, primary.name);
    await claims.claim(
      tx,
      projectId,
      { name, position: primary?.position ?? 0, redirectTo: null, redirectStatus: null },
      trust,
      "customDomain",
    );
  },
};

export function postgresDomains(sql: postgres.Sql): ProjectDomains {
  const claims = postgresDomainClaims;
  /** One transaction holding the domains lock, with UNIQUE violations mapped to their conflicts. */
  const write = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    try {
      return (await sql.begin(async (tx) => {
        await lockDomains(tx);
        return fn(tx);
      })) as T;
    } catch (e) {
      uniqueViolation(e);
    }
  };
  return {
    async list(projectId) {
      return (await claims.list(sql, projectId)).map(({ position: _, ...domain }) => domain);
    },
    async add(projectId, input, { trust = false, max = 0 } = {}) {
      const name = input.name.toLowerCase();
      const redirectTo = input.redirectTo?.toLowerCase() ?? null;
      return write(async (tx) => {
        const domains = await claims.list(tx, projectId);
        if (domains.some((d) => d.name === name))
          throw conflict(`${name} is already a domain of this project`, "name");
        if (max > 0 && domains.length >= max) throw domainLimit(max);
        assertRedirect(domains, name, redirectTo);
        const last = domains.reduce((n, d) => Math.max(n, d.position), -1);
        return claims.claim(
          tx,
          projectId,
          {
            name,
            position: last + 1,
            redirectTo,
            redirectStatus: redirectTo === null ? null : (input.redirectStatus ?? DEFAULT_REDIRECT_STATUS),
          },
          trust,
          "name",
        );
      });
    },
    async setRedirect(projectId, value, redirectTo, redirectStatus) {
      const name = value.toLowerCase();
      const target = redirectTo?.toLowerCase() ?? null;
      return write(async (tx) => {
        const domains = await claims.list(tx, projectId);
        if (!domains.some((d) => d.name === name)) return null;
        assertRedirect(domains, name, target);
        const row = await first(tx<Row[]>`
          UPDATE project_domains
          SET redirect_to = ${target}, redirect_status = ${target === null ? null : (redirectStatus ?? DEFAULT_REDIRECT_STATUS)}
          WHERE project_id = ${projectId} AND domain = ${name} RETURNING *`);
        return row ? toDomain(row) : null;
      });
    },
    async remove(projectId, name) {
      return write((tx) => claims.drop(tx, projectId, name.toLowerCase()));
    },
    async markVerified(projectId, name) {
      return write((tx) => claims.verify(tx, projectId, name.toLowerCase(), "name"));
    },
  };
}

// Store: a project's custom domains (src/store/domains.ts) on bun:sqlite, and the claim rules the projects
// repository applies to its customDomain (the first domain) inside its own transactions.

import type { Database } from "bun:sqlite";
import { conflict, domainLimit, domainTaken } from "../errors.ts";
import { assertRedirect, DEFAULT_REDIRECT_STATUS, type ProjectDomain } from "../model/domains.ts";
import type { DomainVerifiedResult, ProjectDomains } from "./domains.ts";
import { sqliteQueries, uniqueViolation } from "./query-sqlite.ts";
import { nowIso, str, toDomain } from "./rows.ts";

type Positioned = ProjectDomain & { position: number };

/** The claim statements; every one runs inside the caller's (immediate) transaction. */
export function sqliteDomainClaims(db: Database) {
  const { one, all, run } = sqliteQueries(db);

  /** The project's domains in order, each with its position (the first one is the primary). */
  const list = (projectId: string): Positioned[] =>
    all("SELECT * FROM project_domains WHERE project_id = ? ORDER BY position, domain", projectId).map(
      (row) => ({
        ...toDomain(row),
        position: Number(row.position),
      }),
    );

  const heldElsewhere = (projectId: string, name: string) =>
    one(
      `SELECT 1 AS held FROM project_domains WHERE project_id <> ? AND domain = ? AND verified_at IS NOT NULL
       LIMIT 1`,
      projectId,
      name,
    ) !== null;

  /** `projectId` now holds `name` verified: the other projects' claims, redirects to it and proofs of it go. */
  const displace = (projectId: string, name: string): string[] => {
    const claims = all(
      "DELETE FROM project_domains WHERE project_id <> ? AND domain = ? RETURNING project_id",
      projectId,
      name,
    );
    run(
      "UPDATE project_domains SET redirect_to = NULL, redirect_status = NULL WHERE project_id <> ? AND redirect_to = ?",
      projectId,
      name,
    );
    const proofs = all(
      "DELETE FROM project_domain_proofs WHERE project_id <> ? AND domain = ? RETURNING project_id",
      projectId,
      name,
    );
    const at = nowIso();
    for (const row of claims)
      run("UPDATE projects SET updated_at = ? WHERE id = ?", at, str(row, "project_id"));
    return [...new Set([...claims, ...proofs].map((r) => str(r, "project_id")))];
  };

  const prove = (projectId: string, name: string, at: string) =>
    run(
      `INSERT INTO project_domain_proofs (project_id, domain, verified_at) VALUES (?, ?, ?)
       ON CONFLICT (project_id, domain) DO UPDATE SET verified_at = excluded.verified_at`,
      projectId,
      name,
      at,
    );

  const verify = (projectId: string, name: string, field: string): DomainVerifiedResult | null => {
    if (heldElsewhere(projectId, name)) throw domainTaken(field);
    const row = one(
      `UPDATE project_domains SET verified_at = coalesce(verified_at, ?) WHERE project_id = ? AND domain = ?
       RETURNING *`,
      nowIso(),
      projectId,
      name,
    );
    if (!row) return null;
    const domain = toDomain(row);
    prove(projectId, name, domain.verifiedAt ?? nowIso());
    return { domain, displaced: displace(projectId, name) };
  };

  /** Inserts a claim: verified at once when trusted or proved before by this project (then displacing others). */
  const claim = (
    projectId: string,
    input: Pick<ProjectDomain, "name" | "redirectTo" | "redirectStatus"> & { position: number },
    trust: boolean,
    field: string,
  ): ProjectDomain => {
    if (heldElsewhere(projectId, input.name)) throw domainTaken(field);
    const proof = one(
      "SELECT verified_at FROM project_domain_proofs WHERE project_id = ? AND domain = ?",
      projectId,
      input.name,
    );
    const at = nowIso();
    const verifiedAt = proof ? str(proof, "verified_at") : trust ? at : null;
    const row = one(
      `INSERT INTO project_domains (project_id, domain, position, verified_at, redirect_to, redirect_status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      projectId,
      input.name,
      input.position,
      verifiedAt,
      input.redirectTo,
      input.redirectTo === null ? null : input.redirectStatus,
      at,
    );
    if (verifiedAt !== null) {
      prove(projectId, input.name, verifiedAt);
      displace(projectId, input.name);
    }
    return toDomain(row ?? {});
  };

  /** Removes a domain; the project's redirects to it stop (those domains serve the site again). */
  const drop = (projectId: string, name: string): boolean => {
    const gone = run(
      "DELETE FROM project_domains WHERE project_id = ? AND domain = ?",
      projectId,
      name,
    ).changes;
    run(
      "UPDATE project_domains SET redirect_to = NULL, redirect_status = NULL WHERE project_id = ? AND redirect_to = ?",
      projectId,
      name,
    );
    return gone > 0;
  };

  /**
   * The project's customDomain saved as `value`: null removes the first domain; a new name replaces it (in its
   * place); a name the project has further down moves up in its place.
   */
  const setPrimary = (projectId: string, value: string | null, trust: boolean, max: number): void => {
    const domains = list(projectId);
    const primary = domains[0];
    if (value === null) {
      if (primary) drop(projectId, primary.name);
      return;
    }
    const name = value.toLowerCase();
    const existing = domains.find((d) => d.name === name);
    if (existing && existing !== primary) {
      if (primary) drop(projectId, primary.name);
      run(
        "UPDATE project_domains SET position = ? WHERE project_id = ? AND domain = ?",
        primary?.position ?? 0,
        projectId,
        name,
      );
    }
    if (existing) {
      if (existing.verifiedAt !== null) return;
      if (heldElsewhere(projectId, name)) throw domainTaken();
      if (trust) verify(projectId, name, "customDomain");
      return;
    }
    if (!primary && max > 0 && domains.length >= max) throw domainLimit(max);
    if (heldElsewhere(projectId, name)) throw domainTaken();
    if (primary) drop(projectId, primary.name);
    claim(
      projectId,
      { name, position: primary?.position ?? 0, redirectTo: null, redirectStatus: null },
      trust,
      "customDomain",
    );
  };

  return { list, verify, claim, drop, setPrimary };
}

export function sqliteDomains(db: Database): ProjectDomains {
  const claims = sqliteDomainClaims(db);
  const { one } = sqliteQueries(db);
  /** Writers queue on sqlite's lock (immediate): of two saves of one domain, the second sees the first. */
  const write = <T>(fn: () => T): T => {
    try {
      return db.transaction(fn).immediate();
    } catch (e) {
      uniqueViolation(e);
    }
  };
  return {
    async list(projectId) {
      return claims.list(projectId).map(({ position: _, ...domain }) => domain);
    },
    async add(projectId, input, { trust = false, max = 0 } = {}) {
      const name = input.name.toLowerCase();
      const redirectTo = input.redirectTo?.toLowerCase() ?? null;
      return write(() => {
        const domains = claims.list(projectId);
        if (domains.some((d) => d.name === name))
          throw conflict(`${name} is already a domain of this project`, "name");
        if (max > 0 && domains.length >= max) throw domainLimit(max);
        assertRedirect(domains, name, redirectTo);
        const last = domains.reduce((n, d) => Math.max(n, d.position), -1);
        return claims.claim(
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
      return write(() => {
        const domains = claims.list(projectId);
        if (!domains.some((d) => d.name === name)) return null;
        assertRedirect(domains, name, target);
        const row = one(
          `UPDATE project_domains SET redirect_to = ?, redirect_status = ? WHERE project_id = ? AND domain = ?
           RETURNING *`,
          target,
          target === null ? null : (redirectStatus ?? DEFAULT_REDIRECT_STATUS),
          projectId,
          name,
        );
        return row ? toDomain(row) : null;
      });
    },
    async remove(projectId, name) {
      return write(() => claims.drop(projectId, name.toLowerCase()));
    },
    async markVerified(projectId, name) {
      return write(() => claims.verify(projectId, name.toLowerCase(), "name"));
    },
  };
}

// Store port: a project's custom domains (src/model/domains.ts). Callers check ownership of the project first.

import type { ProjectDomain, RedirectStatus } from "../model/domains.ts";

/** How a save treats the domain it adds (DOMAIN_VERIFICATION, MAX_DOMAINS_PER_PROJECT). */
export interface DomainSave {
  /** DOMAIN_VERIFICATION=off: the domain counts as verified at once, in the same transaction. */
  trust?: boolean;
  /** The most domains the project may hold; adding past it is a conflict (0: no limit). */
  max?: number;
}

/** A domain that is now verified, and the projects whose claims or proofs of it it displaced. */
export interface DomainVerifiedResult {
  domain: ProjectDomain;
  displaced: string[];
}

/**
 * Domains compare in lower case (the store lowers them). Several projects may claim one domain unverified; only
 * one may hold it verified, and adding a domain another project holds verified is a conflict. A claim that
 * becomes verified (markVerified, a trusted add, or a project adding back a domain it proved before) displaces in
 * the same transaction the other projects' unverified claims of it and their older proofs. A redirect names
 * another domain of the same project that serves (no chains); removing a domain stops the redirects to it.
 */
export interface ProjectDomains {
  /** The project's domains, its first (primary, the project's `customDomain`) first. */
  list(projectId: string): Promise<ProjectDomain[]>;
  /**
   * Adds a domain after the others. Conflict when the project has it already, another project holds it verified,
   * or the project holds `max` domains; validation_failed for a redirect to no serving domain of the project.
   */
  add(
    projectId: string,
    input: { name: string; redirectTo?: string | null; redirectStatus?: RedirectStatus | null },
    options?: DomainSave,
  ): Promise<ProjectDomain>;
  /** Sets or clears the redirect (status defaults to 308); null when the project has no such domain. */
  setRedirect(
    projectId: string,
    name: string,
    redirectTo: string | null,
    redirectStatus?: RedirectStatus | null,
  ): Promise<ProjectDomain | null>;
  /** False when the project had no such domain. Redirects of the project to it are cleared. */
  remove(projectId: string, name: string): Promise<boolean>;
  /**
   * Marks the domain verified (null when the project no longer has it), displacing the other projects' claims.
   * Throws a conflict AppError when another project holds it verified (it won a race).
   */
  markVerified(projectId: string, name: string): Promise<DomainVerifiedResult | null>;
}

// A project's custom domains: each one verified and served on its own, or redirecting to another of the same
// project (apex -> www). The rules here are pure; the store applies them inside its transactions.

import { type Static, Type } from "@sinclair/typebox";
import { invalid } from "../errors.ts";

/** How many custom domains one project may hold (apex and www pairs, a few aliases; not a bulk host list). */
export const MAX_DOMAINS_PER_PROJECT = 50;

export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];
/** Permanent and method-keeping, as Vercel's domain redirects. */
export const DEFAULT_REDIRECT_STATUS: RedirectStatus = 308;

export const RedirectStatusSchema = Type.Union(
  [Type.Literal(301), Type.Literal(302), Type.Literal(307), Type.Literal(308)],
  { description: "the redirect's HTTP status: 308 (default), 301, 302 or 307" },
);

export const ProjectDomainSchema = Type.Object({
  name: Type.String({ description: "the host name, lower case" }),
  verifiedAt: Type.Union([
    Type.String({
      format: "date-time",
      description: "when the domain passed its DNS check; it is served only after that",
    }),
    Type.Null(),
  ]),
  redirectTo: Type.Union([Type.String(), Type.Null()], {
    description:
      "another domain of the project this one redirects to (path and query kept), or null to serve",
  }),
  redirectStatus: Type.Union([RedirectStatusSchema, Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
});
/** One custom domain of a project, as stored. */
export type ProjectDomain = Static<typeof ProjectDomainSchema>;

/** A domain as the proxy routes it: verified ones only. */
export type RouteDomain = Pick<ProjectDomain, "name" | "redirectTo" | "redirectStatus">;

/** The DNS record a project's owner creates to verify a custom domain. */
export interface VerificationRecord {
  type: "TXT";
  name: string;
  value: string;
}

/** The record that proves control of `domain`: one token per project, one record name per domain. */
export function recordFor(domain: string, domainToken: string): VerificationRecord {
  return { type: "TXT", name: `_minivercel.${domain}`, value: `minivercel-verify=${domainToken}` };
}

/** The domain a name would pair with: `www.<apex>`, or null for a name that already starts with www. */
export function wwwPair(name: string): string | null {
  return name.startsWith("www.") ? null : `www.${name}`;
}

/**
 * Checks that `name` (a domain of the project, in `domains`) may redirect to `target`: another domain of the same
 * project that does not redirect itself, and `name` is no other domain's target (no chains, no loops).
 */
export function assertRedirect(domains: ProjectDomain[], name: string, target: string | null): void {
  if (target === null) return;
  if (target === name) throw invalid("a domain cannot redirect to itself", "redirectTo");
  const to = domains.find((d) => d.name === target);
  if (!to) throw invalid(`redirectTo must be another domain of this project; ${target} is not`, "redirectTo");
  if (to.redirectTo !== null)
    throw invalid(
      `${target} redirects to ${to.redirectTo} itself; redirect to that domain instead`,
      "redirectTo",
    );
  const from = domains.find((d) => d.redirectTo === name && d.name !== name);
  if (from)
    throw invalid(
      `${from.name} redirects to ${name}, so ${name} must serve the site; change ${from.name} first`,
      "redirectTo",
    );
}

// A project's custom domains as the API, the dashboard and the CLI change them: add (with its www pair), set or
// clear a redirect, remove. Ownership goes through the project lookup (getProject); every change reaches the
// proxies at once. Verification is src/deploy/domains.ts.

import type { Config } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import { conflict, domainLimit, invalid, notFound } from "../errors.ts";
import {
  DEFAULT_REDIRECT_STATUS,
  MAX_DOMAINS_PER_PROJECT,
  type ProjectDomain,
  type RedirectStatus,
  wwwPair,
} from "../model/domains.ts";
import type { Project } from "../model/entities.ts";
import { domainProblem } from "../model/names.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";

type Rules = Pick<Config, "baseDomain" | "sitesDomain" | "domains">;

export interface DomainInput {
  name: string;
  /** Another domain of the project to redirect to (null or absent: serve the site). */
  redirectTo?: string | null;
  redirectStatus?: RedirectStatus;
  /**
   * Make the www pair, as Vercel suggests for an apex domain: `www.<apex>` serves and the apex redirects to it.
   * `name` may be either of them; whichever the project lacks is added, an apex it has is made to redirect.
   */
  www?: boolean;
}

/** The project (owned by the caller) and its domains, first (its customDomain) first. */
export interface ProjectDomains {
  project: Project;
  domains: ProjectDomain[];
}

/** A host name as typed (any case, a trailing dot) -> lower case, or a 422 naming `field`. */
export function domainName(value: string, rules: Rules, field: string): string {
  const name = value.trim().replace(/\.$/, "").toLowerCase();
  const problem = domainProblem(name, rules.baseDomain, rules.sitesDomain);
  if (problem) throw invalid(`${field} ${problem}`, field);
  return name;
}

export async function listDomains(store: Store, userId: string, projectId: string): Promise<ProjectDomains> {
  const project = await getProject(store, userId, projectId, "read");
  return { project, domains: await store.domains.list(project.id) };
}

export async function addDomain(
  { store, bus }: Pick<Deps, "store" | "bus">,
  rules: Rules,
  userId: string,
  projectId: string,
  input: DomainInput,
): Promise<ProjectDomains> {
  const project = await getProject(store, userId, projectId, "write");
  const name = domainName(input.name, rules, "name");
  const redirectTo = input.redirectTo ? domainName(input.redirectTo, rules, "redirectTo") : null;
  const save = { trust: rules.domains.verification === "off", max: MAX_DOMAINS_PER_PROJECT };
  if (!input.www) {
    await store.domains.add(project.id, { name, redirectTo, redirectStatus: input.redirectStatus }, save);
  } else {
    if (redirectTo !== null) throw invalid("give either www or redirectTo, not both", "www");
    await addPair(store, project.id, pairOf(name, rules), input.redirectStatus, save);
  }
  await announceRoutes(bus, project.id);
  return { project, domains: await store.domains.list(project.id) };
}

/** The apex and www names of a pair, from either of them (`www.example.com` pairs with `example.com`). */
function pairOf(name: string, rules: Rules): { apex: string; www: string } {
  const www = wwwPair(name);
  if (www !== null) return { apex: name, www: domainName(www, rules, "name") };
  return { apex: domainName(name.slice("www.".length), rules, "name"), www: name };
}

/**
 * Makes the pair: `www` serves and `apex` redirects to it, adding whichever of them the project lacks, and making
 * an apex the project has already (serving) redirect; as Vercel does when you add the www of an apex you have,
 * or the apex of your www. A 409 when they are a pair already, or the apex redirects elsewhere (change that
 * redirect instead).
 */
async function addPair(
  store: Store,
  projectId: string,
  { apex, www }: { apex: string; www: string },
  status: RedirectStatus | undefined,
  save: { trust: boolean; max: number },
): Promise<void> {
  const existing = await store.domains.list(projectId);
  const hasApex = existing.find((d) => d.name === apex);
  const hasWww = existing.some((d) => d.name === www);
  if (hasApex?.redirectTo === www && hasWww)
    throw conflict(`${apex} already redirects to ${www}: they are a pair`, "name");
  if (hasApex?.redirectTo)
    throw conflict(
      `${apex} redirects to ${hasApex.redirectTo}; change its redirect to pair it with ${www}`,
      "name",
    );
  // Both or neither: what is missing is checked against the limit before the first is added.
  if (existing.length + (hasWww ? 0 : 1) + (hasApex ? 0 : 1) > MAX_DOMAINS_PER_PROJECT)
    throw domainLimit(MAX_DOMAINS_PER_PROJECT);
  if (!hasWww) await store.domains.add(projectId, { name: www }, save);
  const redirectStatus = status ?? DEFAULT_REDIRECT_STATUS;
  try {
    if (!hasApex) await store.domains.add(projectId, { name: apex, redirectTo: www, redirectStatus }, save);
    else if (!(await store.domains.setRedirect(projectId, apex, www, redirectStatus)))
      throw notFound("domain");
  } catch (error) {
    if (!hasWww) await store.domains.remove(projectId, www);
    throw error;
  }
}

/** Sets, changes or clears a domain's redirect; `redirectTo` absent keeps the target and changes the status. */
export async function updateDomain(
  { store, bus }: Pick<Deps, "store" | "bus">,
  rules: Rules,
  userId: string,
  projectId: string,
  domain: string,
  patch: { redirectTo?: string | null; redirectStatus?: RedirectStatus },
): Promise<ProjectDomain> {
  const project = await getProject(store, userId, projectId, "write");
  const name = domain.toLowerCase();
  const current = (await store.domains.list(project.id)).find((d) => d.name === name);
  if (!current) throw notFound("domain");
  const target =
    patch.redirectTo === undefined
      ? current.redirectTo
      : patch.redirectTo && domainName(patch.redirectTo, rules, "redirectTo");
  if (target === null && patch.redirectStatus !== undefined && patch.redirectTo === undefined)
    throw invalid(`${name} does not redirect; set redirectTo with redirectStatus`, "redirectStatus");
  const saved = await store.domains.setRedirect(
    project.id,
    name,
    target || null,
    patch.redirectStatus ?? (patch.redirectTo === undefined ? current.redirectStatus : null),
  );
  if (!saved) throw notFound("domain");
  await announceRoutes(bus, project.id);
  return saved;
}

export async function removeDomain(
  { store, bus }: Pick<Deps, "store" | "bus">,
  userId: string,
  projectId: string,
  domain: string,
): Promise<void> {
  const project = await getProject(store, userId, projectId, "write");
  if (!(await store.domains.remove(project.id, domain.toLowerCase()))) throw notFound("domain");
  await announceRoutes(bus, project.id);
}

// Custom domain ownership: a domain is served, and gets a certificate, only after its owner proves control of
// its DNS with a TXT record. Without the check, any user could claim someone else's domain that points here.
// Claims do not block each other; the verified one displaces the rest (src/store/store.ts, Projects).

import { Resolver } from "node:dns/promises";
import type { Config } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import { invalid, notFound } from "../errors.ts";
import { recordFor, type VerificationRecord } from "../model/domains.ts";
import type { Project } from "../model/entities.ts";
import { getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";

export type { VerificationRecord } from "../model/domains.ts";

/** The record for the project's first domain (its `customDomain`), or null without one. */
export function verificationRecord(
  project: Pick<Project, "customDomain" | "domainToken">,
): VerificationRecord | null {
  return project.customDomain === null ? null : recordFor(project.customDomain, project.domainToken);
}

/** TXT records at `name`; [] when the name does not exist. Other DNS failures are thrown. */
async function lookupTxt(name: string, servers: string[]): Promise<string[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers);
  try {
    // A TXT record may be split into several strings of up to 255 bytes; they form one value.
    return (await resolver.resolveTxt(name)).map((parts) => parts.join(""));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    throw error;
  }
}

/**
 * Checks the TXT record of one of the project's domains (its first, `customDomain`, when `name` is null) and marks
 * it verified, clearing other projects' unverified claims of it; the new host reaches every proxy at once. A
 * missing or wrong record is the user's to fix: a 422 that says what to publish and what was found. Another
 * project that verified the domain first: a 409.
 */
export async function verifyDomain(
  { store, bus, config }: Pick<Deps, "store" | "bus"> & { config: Pick<Config, "domains"> },
  userId: string,
  projectId: string,
  name: string | null = null,
): Promise<Project> {
  const project = await getProject(store, userId, projectId, "write");
  const field = name === null ? "customDomain" : "name";
  const domain =
    name === null
      ? project.customDomain
      : ((await store.domains.list(project.id)).find((d) => d.name === name.toLowerCase())?.name ?? null);
  if (domain === null) {
    if (name === null) throw invalid("this project has no custom domain to verify", field);
    throw notFound("domain");
  }
  const current = (await store.domains.list(project.id)).find((d) => d.name === domain);
  if (current?.verifiedAt) return project;
  const record = recordFor(domain, project.domainToken);
  let found: string[];
  try {
    found = await lookupTxt(record.name, config.domains.resolvers);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalid(
      `could not look up ${record.name} (${typeof code === "string" ? code : "DNS error"}); try again in a minute`,
      field,
    );
  }
  if (!found.includes(record.value)) {
    const seen =
      found.length === 0 ? "no TXT record" : `TXT ${found.map((v) => JSON.stringify(v)).join(", ")}`;
    throw invalid(
      `${record.name} has ${seen}; add a TXT record with the value "${record.value}" and try again (DNS changes can take a few minutes)`,
      field,
    );
  }
  const verified =
    name === null
      ? await store.projects.markDomainVerified(project.id, domain)
      : await store.domains.markVerified(project.id, domain);
  // The domain went between the read and the write: a new one still needs its own check.
  if (!verified) throw invalid("the domain changed while it was being verified; try again", field);
  // The displaced claims were not served, but the proxies' copies of those projects should not keep them either.
  for (const id of [project.id, ...verified.displaced]) await announceRoutes(bus, id);
  return (await store.projects.find(project.id)) ?? project;
}

// Project operations shared by the API and the dashboard: validation, ownership, and cleanup.

import type { Config } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import { AppError, invalid, notFound } from "../errors.ts";
import { MAX_DOMAINS_PER_PROJECT } from "../model/domains.ts";
import type { Project, ProjectSettings, ProtectionMode } from "../model/entities.ts";
import { gitAddressProblem } from "../model/git-address.ts";
import { derivedSubdomain, normalizeSettings, withDefaults } from "../model/settings.ts";
import type { ProjectSave, Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";

type Rules = Pick<Config, "baseDomain" | "sitesDomain" | "allowLocalGit" | "allowPrivateGit" | "domains">;
/** What creating a project also reads: the project limit and the protection new projects get. */
type CreateRules = Rules & {
  limits: Pick<Config["limits"], "maxProjectsPerUser">;
  protection: Pick<Config["protection"], "defaultMode">;
};

/** A git URL whose host is on the platform's own network is refused before it is stored (git-address.ts). */
async function checkGitAddress(settings: Partial<ProjectSettings>, rules: Rules): Promise<void> {
  if (!settings.gitUrl) return;
  const problem = await gitAddressProblem(settings.gitUrl, rules.allowPrivateGit);
  if (problem) throw invalid(`gitUrl ${problem}`, "gitUrl");
}

export async function createProject(
  store: Store,
  rules: CreateRules,
  userId: string,
  input: Partial<ProjectSettings>,
  /** The team it is created in (the caller's role there is checked first); null for the personal scope. */
  teamId: string | null = null,
): Promise<Project> {
  const settings = {
    ...withDefaults(normalizeSettings(input, rules, "create")),
    protection: rules.protection.defaultMode,
  };
  await checkGitAddress(settings, rules);
  // MAX_PROJECTS_PER_USER: the store counts and inserts atomically, so racing creations cannot pass it.
  const max = rules.limits.maxProjectsPerUser;
  const save = domainSave(rules);
  try {
    return await store.projects.create({ userId, teamId, ...settings }, max, save);
  } catch (error) {
    // A subdomain we derived from the name (not one the user chose) retries with a suffix when taken.
    const derived = input.subDomain === undefined && error instanceof AppError && error.field === "subDomain";
    if (!derived) throw error;
    return store.projects.create(
      { userId, teamId, ...settings, subDomain: derivedSubdomain(settings.name, true) },
      max,
      save,
    );
  }
}

/**
 * DOMAIN_VERIFICATION=off (single-user setups): a saved custom domain counts as verified at once, so saving one
 * that another project holds is a conflict, as with a verified claim (src/store/store.ts, Projects). Unverified
 * claims of it left from before the switch are removed; they were never served, so no proxy needs telling.
 */
const domainSave = (rules: Pick<Config, "domains">): ProjectSave => ({
  trustDomain: rules.domains.verification === "off",
  maxDomains: MAX_DOMAINS_PER_PROJECT,
});

/** Changes settings; hosts (subdomain, custom domain) and serving rules reach every proxy at once. */
export async function updateProject(
  { store, bus }: Pick<Deps, "store" | "bus">,
  rules: Rules,
  userId: string,
  id: string,
  patchWithProtection: Partial<ProjectSettings> & { protection?: ProtectionMode },
): Promise<Project> {
  // A patch may carry the protection mode with settings: it is saved after them, so a refused setting changes
  // nothing. (Its store write is separate: src/store/protection.ts.)
  const { protection, ...patch } = patchWithProtection;
  // Members manage domains; changing any other setting (or protection) is the owners'. A form sends every field
  // of its section back: one left as it was changes nothing, so it needs no more than the domain does.
  const allowed = await getProject(store, userId, id, "write");
  const stored: Record<string, unknown> = allowed;
  const settingsChange =
    protection !== undefined ||
    Object.entries(patch).some(([key, value]) => key !== "customDomain" && stored[key] !== value);
  if (settingsChange) await getProject(store, userId, id, "admin");
  const protect = async (project: Project): Promise<Project> => {
    if (protection === undefined) return project;
    await store.protection.setMode(project.id, protection);
    return { ...project, protection };
  };
  if (protection !== undefined && Object.keys(patch).length === 0) {
    const owned = await protect(allowed);
    await announceRoutes(bus, owned.id);
    return owned;
  }
  // An unchanged git URL is not validated again: a settings form sends it back with every save, and a project's
  // push remote (a file:// URL, src/git/repos.ts) is one the platform sets but users may not.
  const { gitUrl, ...rest } = patch;
  const current = gitUrl ? allowed : null;
  const keep = current !== null && current.gitUrl === gitUrl;
  const settings = normalizeSettings(
    keep || gitUrl === undefined ? rest : { ...rest, gitUrl },
    rules,
    "update",
  );
  if (Object.keys(settings).length === 0) {
    if (!keep) throw invalid("nothing to change: send at least one setting");
    if (protection === undefined) return current;
    const kept = await protect(current);
    await announceRoutes(bus, kept.id);
    return kept;
  }
  await checkGitAddress(settings, rules);
  const updated = await store.projects.update(userId, id, settings, domainSave(rules));
  if (!updated) throw notFound("project");
  const project = await protect(updated);
  await announceRoutes(bus, project.id);
  return project;
}

/** Manifests deleted at once when a project goes. */
const MANIFEST_DELETES = 16;

/**
 * Deletes a project with its deployments, their logs and manifests, then starts a garbage collection for the
 * blobs no other deployment shares (those stored within GC_GRACE_MINUTES wait for a later collection).
 */
export async function deleteProject(
  {
    store,
    logs,
    runtimeLogs,
    analytics,
    artifacts,
    gc,
    bus,
  }: Pick<Deps, "store" | "logs" | "runtimeLogs" | "analytics" | "artifacts" | "gc" | "bus">,
  userId: string,
  id: string,
): Promise<void> {
  const project = await getProject(store, userId, id, "admin");
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Store["deployments"]["ofProject"]>> = await store.deployments.ofProject(
      project.id,
      { limit: 100, cursor },
    );
    ids.push(...page.items.map((d) => d.id));
    cursor = page.nextCursor;
  } while (cursor);
  if (!(await store.projects.delete(userId, id))) throw notFound("project");
  // Its hosts stop resolving on every proxy now, not at the next reconcile.
  await announceRoutes(bus, project.id);
  await logs.remove(ids);
  await runtimeLogs.remove(ids);
  await analytics.removeProjects([project.id]);
  // A crash before this point leaves manifests of deployments that no longer exist: the collector deletes those.
  for (let i = 0; i < ids.length; i += MANIFEST_DELETES) {
    await Promise.all(ids.slice(i, i + MANIFEST_DELETES).map((d) => artifacts.deleteManifest(d)));
  }
  gc.trigger();
}

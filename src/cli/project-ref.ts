// Which project a command acts on: --project <id|subdomain|name>, else the folder's .minivercel.json link.

import { readLink } from "./config.ts";
import { type Api, CliError } from "./http.ts";
import { expectShape, type Project, ProjectPage, Project as ProjectSchema } from "./responses.ts";

/** Every project of the user (paged through). */
export async function listProjects(api: Api): Promise<Project[]> {
  const out: Project[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = expectShape(
      ProjectPage,
      await api.json("GET", `/api/projects?limit=100${query}`),
      "projects",
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** A project by id, else by subdomain or name; null when the user has none of that name. */
export async function findProject(api: Api, ref: string): Promise<Project | null> {
  if (/^[0-9a-f-]{36}$/.test(ref)) {
    try {
      return expectShape(ProjectSchema, await api.json("GET", `/api/projects/${ref}`), "project");
    } catch (error) {
      if (!(error instanceof CliError && error.exitCode === 2)) throw error;
    }
  }
  const all = await listProjects(api);
  return all.find((p) => p.subDomain === ref) ?? all.find((p) => p.name === ref) ?? null;
}

/** The project named by --project or linked in `dir`; a usage error when there is neither. */
export async function projectFor(api: Api, ref: string | undefined, dir: string): Promise<Project> {
  if (ref !== undefined) {
    const project = await findProject(api, ref);
    if (!project) throw new CliError(`no project '${ref}' (see 'minivercel projects')`, 2);
    return project;
  }
  const linked = readLink(dir);
  if (!linked)
    throw new CliError("no project: pass --project <id or subdomain>, or run this in a deployed folder", 2);
  const project = await findProject(api, linked);
  if (!project)
    throw new CliError(
      `the linked project ${linked} no longer exists: pass --project or delete .minivercel.json`,
      2,
    );
  return project;
}

// The audit log's entries: who did what in a scope (team or personal), when and from where; the API and the
// dashboard record through an Auditor after each change succeeds.

import type { Project, User } from "../model/entities.ts";
import type { AuditScope } from "../store/audit-log.ts";
import type { Store } from "../store/store.ts";

/** The scope a project's events belong to: its team's log, or its owner's personal one. */
export const projectScope = (project: Pick<Project, "userId" | "teamId">): AuditScope =>
  project.teamId ? `team:${project.teamId}` : `user:${project.userId}`;

export const teamScope = (teamId: string): AuditScope => `team:${teamId}`;
export const personalScope = (userId: string): AuditScope => `user:${userId}`;

/** What happened, to what. `action` is `noun.verb`: project.create, deployment.promote, env.set, member.remove… */
export interface AuditFact {
  scope: AuditScope;
  action: string;
  target: string | null;
  detail?: string | null;
}

/** Records facts as done by a signed-in user through a request (whose client address it notes). */
export interface Auditor {
  record(request: Request, user: User, fact: AuditFact): Promise<void>;
  /** A change to a project (or its deployments), in its scope's log; a project gone meanwhile records nothing. */
  project(
    request: Request,
    user: User,
    project: Project | string,
    action: string,
    detail?: string | null,
  ): Promise<void>;
  /**
   * A change to a project that no account made here: a git host's webhook delivery. The entry has no actor
   * account (actorId and actorEmail null); its detail names the sender (e.g. `github webhook (octocat): …`).
   */
  delivery(request: Request, project: Project, action: string, detail: string): Promise<void>;
}

/** An Auditor writing to the store's audit log; `addressOf` is the client address rule (client-address.ts). */
export function createAuditor(
  store: Pick<Store, "auditLog" | "projects">,
  addressOf: (request: Request) => string,
): Auditor {
  const record: Auditor["record"] = async (request, user, fact) => {
    await store.auditLog.append({
      scope: fact.scope,
      actorId: user.id,
      actorEmail: user.email,
      action: fact.action,
      target: fact.target,
      detail: fact.detail ?? null,
      address: addressOf(request),
    });
  };
  return {
    record,
    async project(request, user, projectOrId, action, detail = null) {
      const project = typeof projectOrId === "string" ? await store.projects.find(projectOrId) : projectOrId;
      if (!project) return;
      await record(request, user, {
        scope: projectScope(project),
        action,
        target: projectTarget(project),
        detail,
      });
    },
    async delivery(request, project, action, detail) {
      await store.auditLog.append({
        scope: projectScope(project),
        actorId: null,
        actorEmail: null,
        action,
        target: projectTarget(project),
        detail,
        address: addressOf(request),
      });
    },
  };
}

/** A project as a log entry names it. */
export const projectTarget = (project: Pick<Project, "name" | "id">) =>
  `project ${project.name} (${project.id})`;

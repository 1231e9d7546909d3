// /api/teams/:team/audit and /api/audit: the append-only audit log of a team, or of your personal scope.

import { Elysia } from "elysia";
import { personalScope, teamScope } from "../deploy/audit.ts";
import { teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import type { AuditEvent } from "../store/audit-log.ts";
import { requireUser } from "./auth.ts";
import { BadCursor, errorResponse, PageQuery, pageOf } from "./schemas.ts";
import { AuditEntry, SlugParam } from "./team-schemas.ts";

const view = ({ scope: _scope, ...entry }: AuditEvent) => entry;

export function auditRoutes({ store, auth }: Pick<Deps, "store" | "auth">) {
  return new Elysia({ tags: ["teams"] })
    .use(requireUser(auth))
    .get(
      "/teams/:team/audit",
      async ({ user, params, query }) => {
        const { team } = await teamFor(store, user.id, params.team, "admin");
        const page = await store.auditLog.list(teamScope(team.id), {
          limit: query.limit ?? 20,
          cursor: query.cursor ?? null,
        });
        return { items: page.items.map(view), nextCursor: page.nextCursor };
      },
      {
        params: SlugParam,
        query: PageQuery,
        response: {
          200: pageOf(AuditEntry),
          400: BadCursor,
          404: errorResponse("No such team, or you are not a member."),
        },
        detail: { summary: "A team's audit log, newest first (owners)" },
      },
    )
    .get(
      "/audit",
      async ({ user, query }) => {
        const page = await store.auditLog.list(personalScope(user.id), {
          limit: query.limit ?? 20,
          cursor: query.cursor ?? null,
        });
        return { items: page.items.map(view), nextCursor: page.nextCursor };
      },
      {
        query: PageQuery,
        response: { 200: pageOf(AuditEntry), 400: BadCursor },
        detail: { summary: "Your personal scope's audit log, newest first" },
      },
    );
}

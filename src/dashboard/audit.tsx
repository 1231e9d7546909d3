// The audit log pages: a team's (owners) and the personal scope's, newest first, paged.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { AuditPage } from "../../views/pages/audit.tsx";
import { personalScope, teamScope } from "../deploy/audit.ts";
import { teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import type { AuditScope } from "../store/audit-log.ts";
import { chromeFor } from "./assets.ts";
import { Text } from "./forms.ts";
import { html } from "./respond.ts";
import { requireSession } from "./session.ts";

const PAGE_SIZE = 50;

export function auditRoutes({ store }: Pick<Deps, "store">) {
  const page = async (
    user: User,
    csrf: string,
    scope: AuditScope,
    name: string,
    path: string,
    cursor?: string,
  ) => {
    const entries = await store.auditLog.list(scope, { limit: PAGE_SIZE, cursor: cursor || null });
    const olderHref = entries.nextCursor ? `${path}?cursor=${encodeURIComponent(entries.nextCursor)}` : null;
    return html(
      <AuditPage
        chrome={chromeFor(user, csrf)}
        scopeName={name}
        entries={entries.items}
        olderHref={olderHref}
      />,
    );
  };
  return new Elysia()
    .use(requireSession(store))
    .get(
      "/teams/:team/audit",
      async ({ user, csrf, params, query }) => {
        const { team } = await teamFor(store, user.id, params.team, "admin");
        const path = `/teams/${encodeURIComponent(team.slug)}/audit`;
        return page(user, csrf, teamScope(team.id), team.name, path, query.cursor);
      },
      {
        params: t.Object({ team: t.String({ minLength: 1, maxLength: 64 }) }),
        query: t.Object({ cursor: Text(500) }),
      },
    )
    .get(
      "/audit",
      ({ user, csrf, query }) => page(user, csrf, personalScope(user.id), "Personal", "/audit", query.cursor),
      { query: t.Object({ cursor: Text(500) }) },
    );
}

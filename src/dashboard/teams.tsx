// Teams in the dashboard: the list and creating one, a team's page (members, roles, removal, leaving, deleting).
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { TeamPage } from "../../views/pages/team.tsx";
import { TeamsPage } from "../../views/pages/teams.tsx";
import type { Right } from "../deploy/access.ts";
import { type Auditor, teamScope } from "../deploy/audit.ts";
import { assertRole, changeRole, createTeam, deleteTeam, removeMember, teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import type { User } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import type { Team } from "../store/teams.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { html, redirect } from "./respond.ts";
import { requireSession } from "./session.ts";

/** The team a page names (`?team=<slug>`), when the user's role there allows `need`; null: personal scope. */
export async function dashboardTeam(
  store: Store,
  userId: string,
  slug: string | undefined,
  need: Right,
): Promise<Team | null> {
  const trimmed = slug?.trim() ?? "";
  return trimmed === "" ? null : (await teamFor(store, userId, trimmed, need)).team;
}

const Slug = t.Object({ team: t.String({ minLength: 1, maxLength: 64 }) });
const SlugAndMember = t.Object({
  team: Slug.properties.team,
  userId: t.String({ minLength: 1, maxLength: 64 }),
});

export function teamRoutes({ store, bus, audit }: Pick<Deps, "store" | "bus"> & { audit: Auditor }) {
  /** A team's page; `createdLink` is an invitation link made by this request (shown once). */
  const teamPage = async (
    user: User,
    csrf: string,
    slug: string,
    createdLink: string | null = null,
    error: unknown = null,
  ) => {
    const { team, role } = await teamFor(store, user.id, slug, "read");
    const [members, invitations] = await Promise.all([
      store.teams.members(team.id),
      role === "owner" ? store.teams.invitations(team.id, new Date().toISOString()) : null,
    ]);
    const message = error instanceof AppError ? error.message : null;
    return html(
      <TeamPage
        chrome={chromeFor(user, csrf)}
        team={team}
        me={{ userId: user.id, role }}
        members={members}
        invitations={invitations}
        createdLink={createdLink}
        errors={message ? { _form: message } : {}}
      />,
      error ? errorStatus(error) : 200,
    );
  };

  /** Runs a change on a team's page; a refusal the user can act on (last owner, has projects) is shown there. */
  const act = async (
    user: User,
    csrf: string,
    slug: string,
    request: Request,
    action: () => Promise<string>,
  ) => {
    try {
      return redirect(request, await action());
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "conflict") throw error;
      return teamPage(user, csrf, slug, null, error);
    }
  };
  const teamPath = (slug: string) => `/teams/${encodeURIComponent(slug)}`;

  return new Elysia()
    .use(requireSession(store))
    .get("/teams", async ({ user, csrf }) =>
      html(
        <TeamsPage
          chrome={chromeFor(user, csrf)}
          teams={await store.teams.ofUser(user.id)}
          values={{}}
          errors={{}}
        />,
      ),
    )
    .post(
      "/teams",
      async ({ user, csrf, body, request }) => {
        try {
          const team = await createTeam(store, user.id, {
            slug: (body.slug ?? "").trim(),
            name: body.name || undefined,
          });
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "team.create",
            target: team.slug,
          });
          return redirect(request, teamPath(team.slug));
        } catch (error) {
          const errors = formErrors(error, { slug: "Slug", name: "Name" });
          if (!errors) throw error;
          const teams = await store.teams.ofUser(user.id);
          return html(
            <TeamsPage
              chrome={chromeFor(user, csrf)}
              teams={teams}
              values={valuesOf(body)}
              errors={errors}
            />,
            errorStatus(error),
          );
        }
      },
      { body: t.Object({ ...CsrfField, slug: Text(64), name: Text(100) }) },
    )
    .get("/teams/:team", ({ user, csrf, params }) => teamPage(user, csrf, params.team), { params: Slug })
    .post(
      "/teams/:team/members/:userId/role",
      ({ user, csrf, params, body, request }) =>
        act(user, csrf, params.team, request, async () => {
          const role = assertRole(body.role ?? "");
          const team = await changeRole(store, user.id, params.team, params.userId, role);
          const email = (await store.teams.members(team.id)).find((m) => m.userId === params.userId)?.email;
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "member.role",
            target: email ?? params.userId,
            detail: `role ${role}`,
          });
          return teamPath(team.slug);
        }),
      { params: SlugAndMember, body: t.Object({ ...CsrfField, role: Text(20) }) },
    )
    .post(
      "/teams/:team/members/:userId/remove",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.team, request, async () => {
          const { team: found } = await teamFor(store, user.id, params.team, "admin");
          const email = (await store.teams.members(found.id)).find((m) => m.userId === params.userId)?.email;
          const team = await removeMember({ store, bus }, user.id, params.team, params.userId);
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "member.remove",
            target: email ?? params.userId,
          });
          return teamPath(team.slug);
        }),
      { params: SlugAndMember, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/teams/:team/leave",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.team, request, async () => {
          const team = await removeMember({ store, bus }, user.id, params.team, user.id);
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "member.leave",
            target: user.email,
          });
          return "/teams";
        }),
      { params: Slug, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/teams/:team/delete",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.team, request, async () => {
          const team = await deleteTeam(store, user.id, params.team);
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "team.delete",
            target: team.slug,
          });
          return "/teams";
        }),
      { params: Slug, body: t.Object({ ...CsrfField }) },
    );
}

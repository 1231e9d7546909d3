// /api/teams: create, list, read and delete teams, and their members (list, change role, remove, leave).

import { Elysia, t } from "elysia";
import { type Auditor, teamScope } from "../deploy/audit.ts";
import { changeRole, createTeam, deleteTeam, removeMember, teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, NoContent } from "./schemas.ts";
import { Member, MemberParams, RoleChange, SlugParam, TeamCreate, TeamView } from "./team-schemas.ts";

export function teamRoutes({
  store,
  bus,
  auth,
  audit,
}: Pick<Deps, "store" | "bus" | "auth"> & { audit: Auditor }) {
  const missing = { 404: errorResponse("No such team, or you are not a member.") };
  const lastOwner = { 409: errorResponse("The team would be left without an owner.") };
  return new Elysia({ tags: ["teams"] })
    .use(requireUser(auth))
    .get(
      "/teams",
      async ({ user }) => ({
        items: (await store.teams.ofUser(user.id)).map(({ id, slug, name, role, createdAt }) => ({
          id,
          slug,
          name,
          role,
          createdAt,
        })),
      }),
      {
        response: t.Object({ items: t.Array(TeamView) }),
        detail: { summary: "List the teams you belong to, with your role in each" },
      },
    )
    .post(
      "/teams",
      async ({ user, body, set, request }) => {
        const team = await createTeam(store, user.id, body);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "team.create",
          target: team.slug,
        });
        set.status = 201;
        return { ...team, role: "owner" as const };
      },
      {
        body: TeamCreate,
        parse: "json",
        response: { 201: TeamView, 409: errorResponse("A team with this slug exists.") },
        detail: { summary: "Create a team (you are its first owner)" },
      },
    )
    .get(
      "/teams/:team",
      async ({ user, params }) => {
        const { team, role } = await teamFor(store, user.id, params.team, "read");
        return { ...team, role };
      },
      { params: SlugParam, response: { 200: TeamView, ...missing }, detail: { summary: "Get a team" } },
    )
    .delete(
      "/teams/:team",
      async ({ user, params, set, request }) => {
        const team = await deleteTeam(store, user.id, params.team);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "team.delete",
          target: team.slug,
        });
        set.status = 204;
      },
      {
        params: SlugParam,
        response: {
          204: NoContent,
          ...missing,
          409: errorResponse("The team still has projects: delete or transfer them first."),
        },
        detail: { summary: "Delete a team (owners; only once it has no projects)" },
      },
    )
    .get(
      "/teams/:team/members",
      async ({ user, params }) => {
        const { team } = await teamFor(store, user.id, params.team, "read");
        return { items: await store.teams.members(team.id) };
      },
      {
        params: SlugParam,
        response: { 200: t.Object({ items: t.Array(Member) }), ...missing },
        detail: { summary: "List a team's members and their roles" },
      },
    )
    .patch(
      "/teams/:team/members/:userId",
      async ({ user, params, body, request }) => {
        const team = await changeRole(store, user.id, params.team, params.userId, body.role);
        const member = (await store.teams.members(team.id)).find((m) => m.userId === params.userId);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "member.role",
          target: member?.email ?? params.userId,
          detail: `role ${body.role}`,
        });
        return member ?? { userId: params.userId, email: "", role: body.role, joinedAt: "" };
      },
      {
        params: MemberParams,
        body: RoleChange,
        parse: "json",
        response: { 200: Member, ...missing, ...lastOwner },
        detail: { summary: "Change a member's role (owners)" },
      },
    )
    .delete(
      "/teams/:team/members/:userId",
      async ({ user, params, set, request }) => {
        const before = await teamFor(store, user.id, params.team, "read");
        const email = (await store.teams.members(before.team.id)).find(
          (m) => m.userId === params.userId,
        )?.email;
        const team = await removeMember({ store, bus }, user.id, params.team, params.userId);
        const leaving = params.userId === user.id;
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: leaving ? "member.leave" : "member.remove",
          target: email ?? params.userId,
        });
        set.status = 204;
      },
      {
        params: MemberParams,
        response: { 204: NoContent, ...missing, ...lastOwner },
        detail: {
          summary: "Remove a member (owners), or leave the team (your own user id)",
          description: "The last owner can neither leave nor be removed.",
        },
      },
    );
}

// /api/teams/:team/invitations and /api/invitations/accept: one-time invitation links to join a team.

import { Elysia, t } from "elysia";
import type { Config } from "../config/config.ts";
import { type Auditor, teamScope } from "../deploy/audit.ts";
import {
  acceptInvitation,
  createInvitation,
  invitationPath,
  listInvitations,
  revokeInvitation,
} from "../deploy/invitations.ts";
import type { Deps } from "../deps.ts";
import type { Invitation } from "../store/teams.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, NoContent } from "./schemas.ts";
import {
  InvitationAccept,
  InvitationCreate,
  InvitationLink,
  InvitationParams,
  InvitationView,
  Joined,
  SlugParam,
} from "./team-schemas.ts";

const view = ({ id, role, createdAt, expiresAt }: Invitation) => ({ id, role, createdAt, expiresAt });

/** The dashboard's origin for links: DASHBOARD_URL when set, else the origin the request came to. */
const dashboardOrigin = (config: Pick<Config, "protection">, request: Request) =>
  (config.protection.dashboardUrl || new URL(request.url).origin).replace(/\/+$/, "");

export function invitationRoutes({
  store,
  auth,
  audit,
  config,
  bus,
}: Pick<Deps, "store" | "auth" | "config" | "bus"> & { audit: Auditor }) {
  const missing = { 404: errorResponse("No such team (or invitation), or you are not a member.") };
  return new Elysia({ tags: ["teams"] })
    .use(requireUser(auth))
    .post(
      "/teams/:team/invitations",
      async ({ user, params, body, set, request }) => {
        const made = await createInvitation(store, user.id, params.team, {
          role: body.role ?? "member",
          expiresInHours: body.expiresInHours,
        });
        await audit.record(request, user, {
          scope: teamScope(made.team.id),
          action: "invitation.create",
          target: made.invitation.id,
          detail: `role ${made.invitation.role}, expires ${made.invitation.expiresAt}`,
        });
        set.status = 201;
        return {
          ...view(made.invitation),
          token: made.token,
          url: `${dashboardOrigin(config, request)}${invitationPath(made.token)}`,
        };
      },
      {
        params: SlugParam,
        body: InvitationCreate,
        parse: "json",
        response: { 201: InvitationLink, ...missing },
        detail: {
          summary: "Invite someone: a one-time link with an expiry (owners)",
          description: "The link is shown once; whoever opens it signed in joins with the role.",
        },
      },
    )
    .get(
      "/teams/:team/invitations",
      async ({ user, params }) => ({ items: (await listInvitations(store, user.id, params.team)).map(view) }),
      {
        params: SlugParam,
        response: { 200: t.Object({ items: t.Array(InvitationView) }), ...missing },
        detail: { summary: "List a team's open invitations (owners)" },
      },
    )
    .delete(
      "/teams/:team/invitations/:invitationId",
      async ({ user, params, set, request }) => {
        const team = await revokeInvitation(store, user.id, params.team, params.invitationId);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "invitation.revoke",
          target: params.invitationId,
        });
        set.status = 204;
      },
      {
        params: InvitationParams,
        response: { 204: NoContent, ...missing },
        detail: { summary: "Revoke an open invitation (owners)" },
      },
    )
    .post(
      "/invitations/accept",
      async ({ user, body, request }) => {
        const { team, role } = await acceptInvitation({ store, bus }, user.id, body.token);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "member.join",
          target: user.email,
          detail: `role ${role}`,
        });
        return { team: { ...team, role } };
      },
      {
        body: InvitationAccept,
        parse: "json",
        response: {
          200: Joined,
          404: errorResponse("No open invitation has this token (used, revoked or expired)."),
        },
        detail: { summary: "Accept an invitation: join its team with its role" },
      },
    );
}

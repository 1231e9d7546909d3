// Team invitations in the dashboard: owners make and revoke one-time links; a signed-in user accepts one.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { InvitationPage } from "../../views/pages/invitation.tsx";
import { TeamPage } from "../../views/pages/team.tsx";
import { type Auditor, teamScope } from "../deploy/audit.ts";
import {
  acceptInvitation,
  createInvitation,
  invitationPath,
  revokeInvitation,
} from "../deploy/invitations.ts";
import { assertRole, teamFor } from "../deploy/teams.ts";
import type { Deps } from "../deps.ts";
import { AppError } from "../errors.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, Text } from "./forms.ts";
import { html, redirect } from "./respond.ts";
import { requireSession } from "./session.ts";
import { startInfo } from "./start.ts";

const Slug = t.Object({ team: t.String({ minLength: 1, maxLength: 64 }) });

export function invitationRoutes({
  store,
  config,
  bus,
  audit,
}: Pick<Deps, "store" | "config" | "bus"> & { audit: Auditor }) {
  return new Elysia()
    .use(requireSession(store))
    .post(
      "/teams/:team/invitations",
      async ({ user, csrf, params, body, request }) => {
        const made = await createInvitation(store, user.id, params.team, {
          role: assertRole(body.role ?? "member"),
        });
        await audit.record(request, user, {
          scope: teamScope(made.team.id),
          action: "invitation.create",
          target: made.invitation.id,
          detail: `role ${made.invitation.role}, expires ${made.invitation.expiresAt}`,
        });
        // Shown once, on this answer: no redirect, which would lose it.
        const { team, role } = await teamFor(store, user.id, params.team, "admin");
        const [members, invitations] = await Promise.all([
          store.teams.members(team.id),
          store.teams.invitations(team.id, new Date().toISOString()),
        ]);
        return html(
          <TeamPage
            chrome={chromeFor(user, csrf)}
            team={team}
            me={{ userId: user.id, role }}
            members={members}
            invitations={invitations}
            createdLink={`${startInfo(config, request).serverUrl}${invitationPath(made.token)}`}
            errors={{}}
          />,
          201,
        );
      },
      { params: Slug, body: t.Object({ ...CsrfField, role: Text(20) }) },
    )
    .post(
      "/teams/:team/invitations/:invitationId/revoke",
      async ({ user, params, request }) => {
        const team = await revokeInvitation(store, user.id, params.team, params.invitationId);
        await audit.record(request, user, {
          scope: teamScope(team.id),
          action: "invitation.revoke",
          target: params.invitationId,
        });
        return redirect(request, `/teams/${encodeURIComponent(team.slug)}#invitations`);
      },
      {
        params: t.Object({
          team: Slug.properties.team,
          invitationId: t.String({ minLength: 1, maxLength: 64 }),
        }),
        body: t.Object({ ...CsrfField }),
      },
    )
    .get(
      "/invite/:token",
      ({ user, csrf, params }) =>
        html(
          <InvitationPage
            chrome={chromeFor(user, csrf)}
            email={user.email}
            action={invitationPath(params.token)}
            errors={{}}
          />,
        ),
      { params: t.Object({ token: t.String({ minLength: 1, maxLength: 200 }) }) },
    )
    .post(
      "/invite/:token",
      async ({ user, csrf, params, request }) => {
        try {
          const { team, role } = await acceptInvitation({ store, bus }, user.id, params.token);
          await audit.record(request, user, {
            scope: teamScope(team.id),
            action: "member.join",
            target: user.email,
            detail: `role ${role}`,
          });
          return redirect(request, `/?team=${encodeURIComponent(team.slug)}`);
        } catch (error) {
          if (!(error instanceof AppError) || error.code !== "not_found") throw error;
          return html(
            <InvitationPage
              chrome={chromeFor(user, csrf)}
              email={user.email}
              action={invitationPath(params.token)}
              errors={{
                _form: "This invitation does not work any more: it was used, revoked or has expired.",
              }}
            />,
            errorStatus(error),
          );
        }
      },
      {
        params: t.Object({ token: t.String({ minLength: 1, maxLength: 200 }) }),
        body: t.Object({ ...CsrfField }),
      },
    );
}

// Request and response schemas of /api/teams, members, invitations and the audit log.

import { t } from "elysia";

export const Role = t.Union([t.Literal("owner"), t.Literal("member"), t.Literal("viewer")], {
  description: "owner: members and every setting; member: deploy, env vars, domains; viewer: read and logs",
});

export const SlugParam = t.Object({
  team: t.String({ minLength: 1, maxLength: 64, description: "the team's slug" }),
});
export const MemberParams = t.Object({
  team: SlugParam.properties.team,
  userId: t.String({ minLength: 1, maxLength: 64 }),
});
export const InvitationParams = t.Object({
  team: SlugParam.properties.team,
  invitationId: t.String({ minLength: 1, maxLength: 64 }),
});

/** `?team=<slug>`: act in a team instead of the personal scope (or send the x-minivercel-team header). */
export const TEAM_HEADER = "x-minivercel-team";
export const TeamParam = t.Optional(
  t.String({
    maxLength: 64,
    description: `act in this team (its slug) instead of your personal scope; the ${TEAM_HEADER} header does the same`,
  }),
);

export const TeamCreate = t.Object(
  {
    slug: t.String({
      minLength: 1,
      maxLength: 64,
      description: "2-48 lowercase letters, digits or inner hyphens",
    }),
    name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const TeamView = t.Object({
  id: t.String(),
  slug: t.String(),
  name: t.String(),
  role: Role,
  createdAt: t.String(),
});

export const Member = t.Object({ userId: t.String(), email: t.String(), role: Role, joinedAt: t.String() });

export const RoleChange = t.Object({ role: Role }, { additionalProperties: false });

export const InvitationCreate = t.Object(
  {
    role: t.Optional(Role),
    expiresInHours: t.Optional(
      t.Integer({ minimum: 1, maximum: 720, description: "how long the link works (default 168, a week)" }),
    ),
  },
  { additionalProperties: false },
);

export const InvitationView = t.Object({
  id: t.String(),
  role: Role,
  createdAt: t.String(),
  expiresAt: t.String(),
});

export const InvitationLink = t.Object({
  ...InvitationView.properties,
  token: t.String({ description: "shown once: the link carries it; only its hash is stored" }),
  url: t.String({ description: "the dashboard page where a signed-in user accepts it" }),
});

export const InvitationAccept = t.Object(
  { token: t.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const Joined = t.Object({ team: TeamView });

export const AuditEntry = t.Object({
  id: t.String(),
  actorId: t.Union([t.String(), t.Null()]),
  actorEmail: t.Union([t.String(), t.Null()]),
  action: t.String({ description: "noun.verb: project.create, deployment.promote, env.set, member.remove…" }),
  target: t.Union([t.String(), t.Null()]),
  detail: t.Union([t.String(), t.Null()]),
  address: t.Union([t.String(), t.Null()], { description: "the client address the request came from" }),
  createdAt: t.String(),
});

export const Transfer = t.Object(
  {
    team: t.Union([t.String({ minLength: 1, maxLength: 64 }), t.Null()], {
      description: "the destination team's slug, or null for your personal scope",
    }),
  },
  { additionalProperties: false },
);

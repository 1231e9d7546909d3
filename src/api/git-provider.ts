// /api/projects/:id/git-provider: the project's commit status and pull-request comment setting (GitHub, GitLab or
// Gitea), its token write-only (only a hint comes back), and the last reports sent. Owner only: another
// account's project is "not found".

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { removeGitProvider, setGitProvider, showGitProvider } from "../deploy/git-provider.ts";
import type { Deps } from "../deps.ts";
import type { GitReport } from "../store/git-reports.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, NoContent } from "./schemas.ts";

const Kind = t.Union([t.Literal("github"), t.Literal("gitlab"), t.Literal("gitea")]);
const ProviderPut = t.Object(
  {
    kind: Kind,
    token: t.String({
      minLength: 8,
      maxLength: 500,
      description:
        "an access token that may set commit statuses and comment (sealed at rest, never shown again)",
    }),
    apiUrl: t.Optional(
      t.String({
        maxLength: 2048,
        description:
          "the REST API base; default https://api.github.com or https://gitlab.com/api/v4; required for Gitea " +
          "(https://<host>/api/v1)",
      }),
    ),
    repository: t.Optional(
      t.Union([t.String({ maxLength: 300 }), t.Null()], {
        description: "owner/name (GitLab: group/name); default: read from the project's git URL",
      }),
    ),
  },
  { additionalProperties: false },
);
const Provider = t.Object({
  kind: Kind,
  apiUrl: t.String(),
  repository: t.Union([t.String(), t.Null()]),
  tokenHint: t.String({ description: "the token's last 4 characters, e.g. …a1b2" }),
  updatedAt: t.String({ format: "date-time" }),
});
const Report = t.Object({
  kind: t.Union([t.Literal("status"), t.Literal("comment")]),
  subject: t.String({ description: "the commit (status) or the branch (comment)" }),
  deploymentId: t.String(),
  state: t.String({ description: "pending, running, success, failure or canceled" }),
  status: t.Union([t.Literal("pending"), t.Literal("delivered"), t.Literal("failed")]),
  attempts: t.Integer(),
  lastError: t.Union([t.String(), t.Null()]),
  nextAttemptAt: t.Union([t.String({ format: "date-time" }), t.Null()], {
    description: "when a pending report is tried (again); null once delivered or failed",
  }),
  updatedAt: t.String({ format: "date-time" }),
});
const Shown = t.Object({
  provider: t.Union([Provider, t.Null()], { description: "null when none is set" }),
  reports: t.Array(Report, { description: "the last 20 reports, most recent first" }),
});

const reportView = (r: GitReport) => ({
  kind: r.kind,
  subject: r.subject,
  deploymentId: r.deploymentId,
  state: r.state,
  status: r.status,
  attempts: r.attempts,
  lastError: r.lastError,
  nextAttemptAt: r.status === "pending" ? r.nextAttemptAt : null,
  updatedAt: r.updatedAt,
});

export function gitProviderRoutes({
  store,
  sealer,
  config,
  auth,
  audit,
}: Pick<Deps, "store" | "sealer" | "config" | "auth"> & { audit: Auditor }) {
  const missing = { 404: errorResponse("No such project, or not yours.") };
  return new Elysia({ tags: ["git provider"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/git-provider",
      async ({ user, params }) => {
        const { provider, reports } = await showGitProvider(store, user.id, params.id);
        return { provider, reports: reports.map(reportView) };
      },
      {
        params: Id,
        response: { 200: Shown, ...missing },
        detail: {
          summary: "The project's git provider for commit statuses and PR comments (never its token)",
        },
      },
    )
    .put(
      "/projects/:id/git-provider",
      async ({ request, user, params, body }) => {
        const saved = await setGitProvider({ store, sealer, config }, user.id, params.id, body);
        await audit.project(request, user, params.id, "git-provider.set", `${saved.kind} ${saved.apiUrl}`);
        return saved;
      },
      {
        params: Id,
        body: ProviderPut,
        parse: "json",
        response: { 200: Provider, ...missing },
        detail: {
          summary: "Set the project's git provider: commit statuses and one preview comment per pull request",
          description:
            "Every deployment of a commit then sets the commit's status (pending, success with its URL, failure " +
            "with the log) and a preview branch with an open pull/merge request gets one comment with its " +
            "preview URL, edited on later pushes. Sent from an outbox with retries: see docs/api.md, Git provider.",
        },
      },
    )
    .delete(
      "/projects/:id/git-provider",
      async ({ request, user, params, set }) => {
        await removeGitProvider(store, user.id, params.id);
        await audit.project(request, user, params.id, "git-provider.remove");
        set.status = 204;
      },
      {
        params: Id,
        response: { 204: NoContent, 404: errorResponse("No such project or setting, or not yours.") },
        detail: { summary: "Remove the project's git provider setting and its token" },
      },
    );
}

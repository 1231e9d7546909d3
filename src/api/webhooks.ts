// Git webhooks: the owner reads a project's webhook URL and secret; GitHub, GitLab and Gitea post to /api/hooks.

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { PROVIDERS, type Provider } from "../deploy/webhook-events.ts";
import { MAX_WEBHOOK_BODY, receiveWebhook, webhookSecret } from "../deploy/webhooks.ts";
import type { Deps } from "../deps.ts";
import { AppError, notFound } from "../errors.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id } from "./schemas.ts";

const WebhookInfo = t.Object({
  url: t.String(),
  urls: t.Object({ github: t.String(), gitlab: t.String(), gitea: t.String() }),
  secret: t.String(),
});

/** GET /api/projects/:id/webhook: the URLs to paste into the git host and the shared secret (owner only). */
export function webhookSettingRoutes({ store, sealer, auth }: Pick<Deps, "store" | "sealer" | "auth">) {
  return new Elysia({ tags: ["webhooks"] }).use(requireUser(auth)).get(
    "/projects/:id/webhook",
    async ({ user, params, request }) => {
      const secret = await webhookSecret({ store, sealer }, user.id, params.id);
      // The address the owner reached the API at is the one the git host can reach too (or a proxy's).
      const url = `${new URL(request.url).origin}/api/hooks/${encodeURIComponent(params.id)}`;
      return {
        url,
        urls: { github: `${url}/github`, gitlab: `${url}/gitlab`, gitea: `${url}/gitea` },
        secret,
      };
    },
    {
      params: Id,
      response: { 200: WebhookInfo, 404: errorResponse("No such project, or not yours.") },
      detail: { summary: "A project's webhook URLs and secret (made on first request)" },
    },
  );
}

const isProvider = (value: string): value is Provider => (PROVIDERS as readonly string[]).includes(value);

/** Reads at most `limit` bytes of the body; a larger one (declared or streamed) is refused. */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new AppError("payload_too_large", `a webhook body may be at most ${limit} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > limit) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** POST /api/hooks/:projectId/:provider: public; the signature (or GitLab's token) is the authentication. */
export function webhookRoutes(
  deps: Pick<Deps, "store" | "sealer" | "artifacts" | "bus" | "live" | "metrics"> & { audit: Auditor },
) {
  return new Elysia({ tags: ["webhooks"] }).post(
    "/hooks/:projectId/:provider",
    async ({ params, request, set }) => {
      if (!isProvider(params.provider)) throw notFound("webhook provider");
      // The raw bytes: signatures are over them, so nothing parses the body before it is verified.
      const body = await readBody(request, MAX_WEBHOOK_BODY);
      const result = await receiveWebhook(deps, params.provider, params.projectId, request, body);
      set.status = result.status;
      return result.body;
    },
    {
      params: t.Object({ projectId: t.String({ maxLength: 64 }), provider: t.String({ maxLength: 16 }) }),
      parse: "none",
      response: {
        200: t.Object(
          { ok: t.Literal(true), ignored: t.Optional(t.String()), duplicate: t.Optional(t.Literal(true)) },
          { description: "Received; nothing to deploy (a ping, an ignored event, or one seen before)." },
        ),
        202: t.Object(
          {
            ok: t.Literal(true),
            deploymentIds: t.Array(t.String()),
            expiredDeploymentIds: t.Array(t.String()),
          },
          { description: "Deployments queued (a push) or previews retired (a closed pull request)." },
        ),
        400: errorResponse("The verified body is not JSON, or the project has no git URL to build from."),
        401: errorResponse("The signature (GitLab: the token) does not match the project's webhook secret."),
        404: errorResponse("No such project or provider, or the project has no webhook secret yet."),
      },
      detail: {
        summary: "Receive a GitHub, GitLab or Gitea webhook (push, pull/merge request)",
        security: [],
        // Read raw: the signature is over the bytes, so the route parses them itself once verified.
        requestBody: {
          required: true,
          description: "The git host's event, as it sent it.",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  );
}

// /api/projects/:id/hooks: a project's outgoing webhooks (deployment events, signed per Standard Webhooks), their
// delivery log and redelivery. Owner only: another account's project or hook is "not found".

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { createHook, deleteHook, hookDeliveries, listHooks, redeliver } from "../deploy/hooks.ts";
import type { Deps } from "../deps.ts";
import { HOOK_EVENTS, type HookDelivery, type HookEvent } from "../store/outgoing-hooks.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, NoContent } from "./schemas.ts";

const Event = t.Union(HOOK_EVENTS.map((e) => t.Literal(e)) as [ReturnType<typeof t.Literal<HookEvent>>], {
  description: HOOK_EVENTS.join(", "),
});
const Format = t.Union([t.Literal("standard"), t.Literal("slack"), t.Literal("discord")], {
  description:
    "standard: the event as JSON ({type, timestamp, data}); slack: {text}; discord: {content}. All are signed.",
});
const HookCreate = t.Object(
  {
    url: t.String({
      minLength: 1,
      maxLength: 2048,
      description: "http(s); not on the platform's own network",
    }),
    events: t.Array(Event, { minItems: 1, maxItems: HOOK_EVENTS.length }),
    format: t.Optional(Format),
  },
  { additionalProperties: false },
);
const Hook = t.Object({
  id: t.String(),
  url: t.String(),
  events: t.Array(t.String()),
  format: t.String(),
  createdAt: t.String({ format: "date-time" }),
});
const HookList = t.Object({ items: t.Array(Hook) });
const CreatedHook = t.Object({
  secret: t.String({ description: "the signing secret (whsec_...), shown only in this response" }),
  hook: Hook,
});
const Attempt = t.Object({
  at: t.String({ format: "date-time" }),
  statusCode: t.Union([t.Integer(), t.Null()], { description: "the receiver's answer; null when none came" }),
  error: t.Union([t.String(), t.Null()]),
  durationMs: t.Integer(),
});
const Delivery = t.Object({
  id: t.String({ description: "sent as webhook-id, the same on every retry" }),
  event: t.String(),
  status: t.Union([t.Literal("pending"), t.Literal("delivered"), t.Literal("failed")]),
  attempts: t.Integer({ description: "attempts since it was (re)queued; 6 at most" }),
  nextAttemptAt: t.String({ format: "date-time" }),
  createdAt: t.String({ format: "date-time" }),
  payload: t.String({ description: "the event as JSON" }),
  log: t.Array(Attempt, { description: "every attempt, oldest first" }),
});
const DeliveryList = t.Object({ items: t.Array(Delivery) });
const IdAndHook = t.Object({ id: Id.properties.id, hookId: t.String({ minLength: 1, maxLength: 64 }) });
const IdHookDelivery = t.Object({
  ...IdAndHook.properties,
  deliveryId: t.String({ minLength: 1, maxLength: 64 }),
});

const view = ({ id, url, events, format, createdAt }: Awaited<ReturnType<typeof listHooks>>[number]) => ({
  id,
  url,
  events,
  format,
  createdAt,
});
const deliveryView = (d: HookDelivery & { log: (typeof Attempt.static)[] }) => ({
  id: d.id,
  event: d.event,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt,
  createdAt: d.createdAt,
  payload: d.payload,
  log: d.log,
});

export function hookRoutes({
  store,
  sealer,
  config,
  auth,
  audit,
}: Pick<Deps, "store" | "sealer" | "config" | "auth"> & { audit: Auditor }) {
  const missing = { 404: errorResponse("No such project, or not yours.") };
  const missingHook = { 404: errorResponse("No such project or hook, or not yours.") };
  return new Elysia({ tags: ["outgoing webhooks"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/hooks",
      async ({ user, params }) => ({ items: (await listHooks(store, user.id, params.id)).map(view) }),
      {
        params: Id,
        response: { 200: HookList, ...missing },
        detail: { summary: "List the project's outgoing webhooks (their secrets are never shown again)" },
      },
    )
    .post(
      "/projects/:id/hooks",
      async ({ user, params, body, set, request }) => {
        const { hook, secret } = await createHook({ store, sealer, config }, user.id, params.id, {
          url: body.url,
          events: body.events,
          format: body.format ?? "standard",
        });
        await audit.project(request, user, params.id, "hook.create", `hook ${hook.id}`);
        set.status = 201;
        return { secret, hook: view(hook) };
      },
      {
        params: Id,
        body: HookCreate,
        parse: "json",
        response: { 201: CreatedHook, ...missing },
        detail: {
          summary: "Add an outgoing webhook for deployment events",
          description:
            "Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) and " +
            "retried with backoff, 6 attempts over about an hour; see docs/api.md, Outgoing webhooks.",
        },
      },
    )
    .delete(
      "/projects/:id/hooks/:hookId",
      async ({ user, params, set, request }) => {
        await deleteHook(store, user.id, params.id, params.hookId);
        await audit.project(request, user, params.id, "hook.delete", `hook ${params.hookId}`);
        set.status = 204;
      },
      {
        params: IdAndHook,
        response: { 204: NoContent, ...missingHook },
        detail: { summary: "Delete an outgoing webhook and its delivery log" },
      },
    )
    .get(
      "/projects/:id/hooks/:hookId/deliveries",
      async ({ user, params }) => ({
        items: (await hookDeliveries(store, user.id, params.id, params.hookId, 100)).map(deliveryView),
      }),
      {
        params: IdAndHook,
        response: { 200: DeliveryList, ...missingHook },
        detail: { summary: "The hook's last 100 deliveries, newest first, each with its attempts" },
      },
    )
    .post(
      "/projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver",
      async ({ user, params, set }) => {
        await redeliver(store, user.id, params.id, params.hookId, params.deliveryId);
        set.status = 202;
        return { queued: true };
      },
      {
        params: IdHookDelivery,
        response: {
          202: t.Object({ queued: t.Boolean() }),
          404: errorResponse("No such project, hook or delivery, or not yours."),
        },
        detail: { summary: "Send a delivery again now (with a fresh set of attempts)" },
      },
    );
}

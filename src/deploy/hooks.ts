// Outgoing webhooks, the owner's side: add (URL checked, secret made and sealed, shown once), list, delete, the
// delivery log and redelivery. Every call checks ownership of the project first (another's is "not found").

import type { OutgoingHooksConfig } from "../config/config.ts";
import { invalid, notFound } from "../errors.ts";
import { hostAddressProblem } from "../model/git-address.ts";
import type { HookDelivery, HookEvent, HookFormat, OutgoingHook } from "../store/outgoing-hooks.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import type { Sealer } from "./env.ts";

export type HookDeps = { store: Store; sealer: Sealer; config: { outgoingHooks: OutgoingHooksConfig } };

/**
 * Why deliveries may not go to `url`: not http(s), credentials in it, or its host is, or resolves to, an address
 * of the platform's own network (unless MINIVERCEL_ALLOW_PRIVATE_HOOKS). Null when it may. Checked when a hook is
 * saved and again before every attempt (a name may resolve elsewhere later).
 */
export async function hookUrlProblem(url: string, allowPrivate: boolean): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "url is not a URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "url must use http or https";
  if (parsed.username || parsed.password) return "url must not hold credentials";
  if (allowPrivate) return null;
  const problem = await hostAddressProblem(parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase());
  return problem === null
    ? null
    : `${problem}; minivercel does not send webhooks to its own network (an operator can allow it with MINIVERCEL_ALLOW_PRIVATE_HOOKS=1)`;
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64 (the bytes are the HMAC key). */
const newSecret = (): string =>
  `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;

export async function createHook(
  deps: HookDeps,
  userId: string,
  projectId: string,
  input: { url: string; events: HookEvent[]; format: HookFormat },
): Promise<{ hook: OutgoingHook; secret: string }> {
  const project = await getProject(deps.store, userId, projectId, "admin");
  const problem = await hookUrlProblem(input.url, deps.config.outgoingHooks.allowPrivate);
  if (problem) throw invalid(problem, "url");
  const events = [...new Set(input.events)];
  if (events.length === 0) throw invalid("events must name at least one event", "events");
  const secret = newSecret();
  const hook = await deps.store.outgoingHooks.create({
    projectId: project.id,
    url: input.url,
    events,
    format: input.format,
    secretSealed: await deps.sealer.seal(secret),
  });
  return { hook, secret };
}

export async function listHooks(store: Store, userId: string, projectId: string): Promise<OutgoingHook[]> {
  return store.outgoingHooks.list((await getProject(store, userId, projectId, "admin")).id);
}

export async function deleteHook(
  store: Store,
  userId: string,
  projectId: string,
  hookId: string,
): Promise<void> {
  const project = await getProject(store, userId, projectId, "admin");
  if (!(await store.outgoingHooks.delete(project.id, hookId))) throw notFound("hook");
}

async function ownHook(
  store: Store,
  userId: string,
  projectId: string,
  hookId: string,
): Promise<OutgoingHook> {
  const project = await getProject(store, userId, projectId, "admin");
  const hook = await store.outgoingHooks.get(project.id, hookId);
  if (!hook) throw notFound("hook");
  return hook;
}

export async function hookDeliveries(
  store: Store,
  userId: string,
  projectId: string,
  hookId: string,
  limit: number,
) {
  const hook = await ownHook(store, userId, projectId, hookId);
  return store.outgoingHooks.deliveries(hook.id, limit);
}

export async function redeliver(
  store: Store,
  userId: string,
  projectId: string,
  hookId: string,
  deliveryId: string,
): Promise<HookDelivery> {
  const hook = await ownHook(store, userId, projectId, hookId);
  const queued = await store.outgoingHooks.redeliver(hook.id, deliveryId, new Date().toISOString());
  if (!queued) throw notFound("delivery");
  return queued;
}

// Outgoing webhooks, the dispatcher (worker role): the shared outbox loop (outbox.ts: leases, backoff, 6
// attempts, pruning) over the store's deliveries, each sent signed in its hook's format, every attempt logged.

import type { OutgoingHooksConfig } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import { hookUrlProblem } from "../deploy/hooks.ts";
import { fetchOutbound } from "../deploy/outbound.ts";
import type { Logger } from "../observe/log.ts";
import type { ClaimedDelivery, HookAttempt } from "../store/outgoing-hooks.ts";
import type { Store } from "../store/store.ts";
import { type OutboxUse, startOutboxLoop } from "./outbox.ts";
import { outgoingRequest } from "./outgoing-format.ts";

const TIMEOUT_MS = 10_000;

export type DispatcherDeps = {
  store: Store;
  sealer: Sealer;
  log: Logger;
  config: { outgoingHooks: OutgoingHooksConfig };
};

/** Sends one delivery once: what happened, without throwing. */
async function attempt(deps: DispatcherDeps, delivery: ClaimedDelivery): Promise<HookAttempt> {
  const started = Date.now();
  const at = new Date(started);
  const done = (statusCode: number | null, error: string | null): HookAttempt => ({
    at: at.toISOString(),
    statusCode,
    error,
    durationMs: Date.now() - started,
  });
  try {
    // Again at send time: the name may resolve to the platform's own network by now.
    const problem = await hookUrlProblem(delivery.url, deps.config.outgoingHooks.allowPrivate);
    if (problem) return done(null, problem);
    const secret = await deps.sealer.open(delivery.secretSealed);
    const { body, headers } = outgoingRequest(delivery.format, secret, delivery.id, delivery.payload, at);
    // To the address just checked (src/deploy/outbound.ts): the name cannot be made to point elsewhere meanwhile.
    const response = await fetchOutbound(
      delivery.url,
      {
        method: "POST",
        headers,
        body,
        // A redirect could lead anywhere, past the address check: it counts as the answer.
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      deps.config.outgoingHooks.allowPrivate,
    );
    await response.body?.cancel();
    return done(response.status, response.ok ? null : `receiver answered ${response.status}`);
  } catch (error) {
    return done(null, error instanceof Error ? error.message : String(error));
  }
}

const isOk = (a: HookAttempt) => a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;

/** The deliveries as an outbox: an attempt is delivered on a 2xx answer and logged whatever it came to. */
function deliveries(deps: DispatcherDeps): OutboxUse<ClaimedDelivery, HookAttempt> {
  const hooks = deps.store.outgoingHooks;
  return {
    name: "outgoing webhooks",
    holder: "dispatcher",
    claimDue: (holder, now, until, limit) => hooks.claimDue(holder, now, until, limit),
    async attempt(delivery) {
      const result = await attempt(deps, delivery);
      return { result, ok: isOk(result) };
    },
    settle: (delivery, holder, { result }, outcome) =>
      hooks.recordAttempt(delivery.id, holder, result, outcome),
    failure: (delivery, result) => [
      "outgoing webhook attempt failed",
      { delivery: delivery.id, status: result.statusCode, error: result.error },
    ],
    prune: (before) => hooks.prune(before),
  };
}

/** Polls the outbox every `pollMs` until stopped; stop waits for the sends under way. */
export function startOutgoingDispatcher(deps: DispatcherDeps, pollMs = 500): { stop(): Promise<void> } {
  return startOutboxLoop(deps, deliveries(deps), pollMs);
}

// Outgoing webhooks, the dispatcher (worker role): claims due deliveries from the store's outbox under a lease
// (one worker per delivery however many run), sends each signed, logs every attempt and retries failures with
// exponential backoff: 6 attempts, waits of base, 3x, 9x... (about an hour with the default 30 s base).

import type { OutgoingHooksConfig } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import { hookUrlProblem } from "../deploy/hooks.ts";
import type { Logger } from "../observe/log.ts";
import type { AttemptOutcome, ClaimedDelivery, HookAttempt } from "../store/outgoing-hooks.ts";
import type { Store } from "../store/store.ts";
import { outgoingRequest } from "./outgoing-format.ts";

export const MAX_ATTEMPTS = 6;
const TIMEOUT_MS = 10_000;
/** Longer than an attempt can take: a dispatcher that died mid-send frees its deliveries after this. */
const LEASE_MS = 60_000;
const BATCH = 20;

export type DispatcherDeps = {
  store: Store;
  sealer: Sealer;
  log: Logger;
  config: { outgoingHooks: OutgoingHooksConfig };
};

/** The wait before attempt `made + 1`, after `made` failed attempts. */
export const backoffMs = (baseMs: number, made: number): number => baseMs * 3 ** (made - 1);

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
    const response = await fetch(delivery.url, {
      method: "POST",
      headers,
      body,
      // A redirect could lead anywhere, past the address check: it counts as the answer.
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    return done(response.status, response.ok ? null : `receiver answered ${response.status}`);
  } catch (error) {
    return done(null, error instanceof Error ? error.message : String(error));
  }
}

/** Claims and sends what is due now; returns how many deliveries it tried. */
export async function dispatchDue(deps: DispatcherDeps, holder: string): Promise<number> {
  const now = Date.now();
  const claimed = await deps.store.outgoingHooks.claimDue(
    holder,
    new Date(now).toISOString(),
    new Date(now + LEASE_MS).toISOString(),
    BATCH,
  );
  await Promise.all(
    claimed.map(async (delivery) => {
      const result = await attempt(deps, delivery);
      const made = delivery.attempts + 1;
      const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      const outcome: AttemptOutcome = ok
        ? { kind: "delivered" }
        : made >= MAX_ATTEMPTS
          ? { kind: "failed" }
          : {
              kind: "retry",
              at: new Date(Date.now() + backoffMs(deps.config.outgoingHooks.retryBaseMs, made)).toISOString(),
            };
      await deps.store.outgoingHooks.recordAttempt(delivery.id, holder, result, outcome);
      if (!ok)
        deps.log.warn("outgoing webhook attempt failed", {
          delivery: delivery.id,
          attempt: made,
          status: result.statusCode,
          error: result.error,
          outcome: outcome.kind,
        });
    }),
  );
  return claimed.length;
}

/** Finished deliveries (and their attempts) are kept this long in the log. */
export const LOG_RETENTION_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Polls the outbox every `pollMs` until stopped, and prunes the log of deliveries older than 30 days every hour;
 * stop waits for the sends under way.
 */
export function startOutgoingDispatcher(deps: DispatcherDeps, pollMs = 500): { stop(): Promise<void> } {
  const holder = `dispatcher-${crypto.randomUUID()}`;
  let stopped = false;
  let wake: (() => void) | null = null;
  let pruned = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        if (Date.now() - pruned > PRUNE_EVERY_MS) {
          pruned = Date.now();
          await deps.store.outgoingHooks.prune(new Date(pruned - LOG_RETENTION_MS).toISOString());
        }
        // A full batch: more may be due at once.
        if ((await dispatchDue(deps, holder)) >= BATCH) continue;
      } catch (error) {
        deps.log.error("outgoing webhooks: dispatch failed", { error: String(error) });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

// Outgoing webhooks, store port: a project's hooks, the outbox of deliveries (one per event per subscribed hook),
// claimed under a lease by one worker at a time, and the log of every attempt. Callers check ownership first;
// the dispatcher (src/worker/outgoing.ts) reads unscoped. The outbox's leases and retries are the shared ones
// (outbox.ts).

import type { OutboxFields, OutboxOutcome, OutboxStatus } from "./outbox.ts";

/** The deployment events a hook can subscribe to. */
export const HOOK_EVENTS = [
  "deployment.created",
  "deployment.ready",
  "deployment.failed",
  "deployment.promoted",
  "deployment.rolled_back",
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** How a delivery's body is shaped: Standard Webhooks JSON, or a Slack / Discord incoming-webhook message. */
export type HookFormat = "standard" | "slack" | "discord";

/** A hook as listed to its owner: never its secret, which is shown once at creation. */
export interface OutgoingHook {
  id: string;
  projectId: string;
  url: string;
  events: HookEvent[];
  format: HookFormat;
  createdAt: string;
}

export interface HookAttempt {
  at: string;
  /** The receiver's HTTP status, or null when no answer came (then `error` says why). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export type DeliveryStatus = OutboxStatus;

export interface HookDelivery extends OutboxFields {
  hookId: string;
  event: HookEvent;
  /** The event as JSON: {type, timestamp, data}. */
  payload: string;
  createdAt: string;
}

/** A delivery claimed by a dispatcher, with what it needs to send it. */
export interface ClaimedDelivery extends HookDelivery {
  url: string;
  format: HookFormat;
  secretSealed: string;
}

export type AttemptOutcome = OutboxOutcome;

export interface OutgoingHooks {
  create(input: {
    projectId: string;
    url: string;
    events: HookEvent[];
    format: HookFormat;
    secretSealed: string;
  }): Promise<OutgoingHook>;
  /** Oldest first. */
  list(projectId: string): Promise<OutgoingHook[]>;
  get(projectId: string, hookId: string): Promise<OutgoingHook | null>;
  /** Deletes the hook and its deliveries; false when it is not this project's. */
  delete(projectId: string, hookId: string): Promise<boolean>;
  /** Queues `payload` for every hook of the project subscribed to `event`; returns how many deliveries. */
  enqueue(projectId: string, event: HookEvent, payload: string, at: string): Promise<number>;
  /**
   * Claims up to `limit` pending deliveries due at `now` whose lease is free or expired, for `holder` until
   * `until`: two dispatchers (even in two processes on one Postgres) never hold the same one.
   */
  claimDue(holder: string, now: string, until: string, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Logs an attempt and applies its outcome, releasing the lease; false (logging nothing) when `holder` no
   * longer holds the delivery.
   */
  recordAttempt(
    deliveryId: string,
    holder: string,
    attempt: HookAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean>;
  /** The hook's deliveries, newest first, each with its attempts (oldest first). */
  deliveries(hookId: string, limit: number): Promise<(HookDelivery & { log: HookAttempt[] })[]>;
  /** Queues a delivery of this hook again, now, with a fresh attempt count; null when it is not the hook's. */
  redeliver(hookId: string, deliveryId: string, now: string): Promise<HookDelivery | null>;
  /** Deletes finished (delivered or failed) deliveries created before `before`, with their attempts; how many. */
  prune(before: string): Promise<number>;
}

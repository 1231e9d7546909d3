// Deployment status state machine: statuses only move forward, terminal states never change.

import { type Static, Type } from "@sinclair/typebox";

/** The statuses, in the order a deployment moves through them (the schema is the type). */
export const DeploymentStatusSchema = Type.Union([
  Type.Literal("NOT_STARTED"),
  Type.Literal("QUEUED"),
  Type.Literal("IN_PROGRESS"),
  Type.Literal("READY"),
  Type.Literal("FAIL"),
  Type.Literal("CANCELED"),
]);
export type DeploymentStatus = Static<typeof DeploymentStatusSchema>;
export const STATUSES: readonly DeploymentStatus[] = DeploymentStatusSchema.anyOf.map(
  (literal) => literal.const,
);

export const TERMINAL: readonly DeploymentStatus[] = ["READY", "FAIL", "CANCELED"];

/** For each target status, the statuses it may be entered from. Everything else is refused. */
const ENTERED_FROM: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  NOT_STARTED: [],
  QUEUED: ["NOT_STARTED"],
  // NOT_STARTED -> IN_PROGRESS: an uploaded prebuilt deployment skips the build queue, so no launcher claims it.
  IN_PROGRESS: ["NOT_STARTED", "QUEUED"],
  // A build can only succeed once it ran.
  READY: ["IN_PROGRESS"],
  // Failure and cancellation can end a deployment at any non-terminal point (reaper, restart, user).
  FAIL: ["NOT_STARTED", "QUEUED", "IN_PROGRESS"],
  CANCELED: ["NOT_STARTED", "QUEUED", "IN_PROGRESS"],
};

export function isTerminal(status: DeploymentStatus): boolean {
  return TERMINAL.includes(status);
}

export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return ENTERED_FROM[to].includes(from);
}

/** The statuses a deployment must currently have for `to` to apply (used as a compare-and-set guard). */
export function predecessors(to: DeploymentStatus): readonly DeploymentStatus[] {
  return ENTERED_FROM[to];
}

export function isStatus(value: string): value is DeploymentStatus {
  return (STATUSES as readonly string[]).includes(value);
}

// Deployment status state machine: statuses only move forward, terminal states never change.

export const STATUSES = ["NOT_STARTED", "QUEUED", "IN_PROGRESS", "READY", "FAIL", "CANCELED"] as const;
export type DeploymentStatus = (typeof STATUSES)[number];

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

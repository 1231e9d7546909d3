// Route announcements: after anything that changes what a host serves, every proxy reloads that project.

import type { RouteChange } from "../../schema/events.ts";
import type { Bus } from "../bus/bus.ts";

/** Tells every proxy to reload a project's routes now (they also reconcile periodically). */
export function announceRoutes(bus: Bus, projectId: string): Promise<void> {
  const change: RouteChange = { type: "project", projectId };
  return bus.publish("route-changes", projectId, change);
}

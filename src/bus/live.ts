// Live fan-out: log lines and status changes to everyone watching a deployment (SSE streams, dashboard).

import type { LogLine } from "../store/logs.ts";
import type { Deployment } from "../store/store.ts";

export type LiveEvent = { kind: "log"; line: LogLine } | { kind: "status"; deployment: Deployment };

export interface Live {
  subscribe(deploymentId: string, listener: (event: LiveEvent) => void): () => void;
  publish(deploymentId: string, event: LiveEvent): void;
}

export function createLive(): Live {
  const listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  return {
    subscribe(deploymentId, listener) {
      let set = listeners.get(deploymentId);
      if (!set) {
        set = new Set();
        listeners.set(deploymentId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(deploymentId);
      };
    },
    publish(deploymentId, event) {
      for (const listener of listeners.get(deploymentId) ?? []) {
        try {
          listener(event);
        } catch (error) {
          console.error("live: listener failed", error);
        }
      }
    },
  };
}

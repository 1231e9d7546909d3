// Live fan-out: log lines and status changes to everyone watching a deployment (SSE streams, dashboard).

import type { Deployment } from "../model/entities.ts";
import type { Logger } from "../observe/log.ts";
import type { LogLine } from "../store/logs.ts";

/** `closing`: this process is shutting down; watchers end their streams and their clients reconnect elsewhere. */
export type LiveEvent =
  | { kind: "log"; line: LogLine }
  | { kind: "status"; deployment: Deployment }
  | { kind: "closing" };

export interface Live {
  subscribe(deploymentId: string, listener: (event: LiveEvent) => void): () => void;
  publish(deploymentId: string, event: LiveEvent): void;
  /** Sends `closing` to every watcher, and to each one that subscribes later; returns how many were told. */
  close(): number;
}

/** `log` gets the listeners that throw (one watcher's bug must not cut the others off). */
export function createLive(log: Logger): Live {
  const listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  let closed = false;
  const tell = (deploymentId: string, listener: (event: LiveEvent) => void, event: LiveEvent) => {
    try {
      listener(event);
    } catch (error) {
      log.error("live: listener failed", { deploymentId, event: event.kind, error });
    }
  };
  return {
    subscribe(deploymentId, listener) {
      let set = listeners.get(deploymentId);
      if (!set) {
        set = new Set();
        listeners.set(deploymentId, set);
      }
      set.add(listener);
      // A stream opened while the server drains (an in-flight request) ends at once too, after its caller is set up.
      if (closed) queueMicrotask(() => tell(deploymentId, listener, { kind: "closing" }));
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(deploymentId) === set) listeners.delete(deploymentId);
      };
    },
    publish(deploymentId, event) {
      for (const listener of listeners.get(deploymentId) ?? []) tell(deploymentId, listener, event);
    },
    close() {
      closed = true;
      const all = [...listeners].flatMap(([id, set]) => [...set].map((listener) => [id, listener] as const));
      for (const [id, listener] of all) tell(id, listener, { kind: "closing" });
      return all.length;
    },
  };
}

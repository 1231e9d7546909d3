// Live fan-out: log lines and status changes to everyone watching a deployment (SSE streams, dashboard). One
// channel per kind of stream: build logs and statuses (`LiveEvent`), runtime lines (src/bus/runtime-live.ts).

import type { Deployment } from "../model/entities.ts";
import type { Logger } from "../observe/log.ts";
import type { LogLine } from "../store/logs.ts";

/** This process is shutting down; watchers end their streams and their clients reconnect elsewhere. */
export type Closing = { kind: "closing" };

export type LiveEvent = { kind: "log"; line: LogLine } | { kind: "status"; deployment: Deployment } | Closing;

/** A channel of events `E` per deployment; every channel also carries `closing`. */
export interface Live<E extends { kind: string } = LiveEvent> {
  subscribe(deploymentId: string, listener: (event: E | Closing) => void): () => void;
  publish(deploymentId: string, event: E): void;
  /** Sends `closing` to every watcher, and to each one that subscribes later; returns how many were told. */
  close(): number;
}

/** `log` gets the listeners that throw (one watcher's bug must not cut the others off). */
export function createLive<E extends { kind: string } = LiveEvent>(log: Logger): Live<E> {
  type Listener = (event: E | Closing) => void;
  const listeners = new Map<string, Set<Listener>>();
  let closed = false;
  const tell = (deploymentId: string, listener: Listener, event: E | Closing) => {
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

// Functions nodes as a proxy sees them: the live set, kept from their signed announcements on the bus topic
// `function-nodes` (a consumer group of this proxy's own hears them all), and the order to try them in for one
// function: rendezvous hashing weighted by capacity, nodes at capacity after the others, nodes that just failed
// to connect last.

import type { Bus, Subscription } from "../bus/bus.ts";
import type { NodeAuth } from "../identity/node-auth.ts";
import type { Logger } from "../observe/log.ts";
import type { Metrics } from "../observe/metrics.ts";
import { HEARTBEAT_MS, NODE_TIMEOUT_MS, signed, verified } from "../runtime/node-wire.ts";
import { rank } from "./rendezvous.ts";

/** A node that could not be reached is tried after every other for this long. */
const UNREACHABLE_MS = 5_000;

export interface FunctionNode {
  id: string;
  /** Where its internal endpoint listens (FUNCTIONS_ADVERTISED_URL). */
  url: string;
  capacity: number;
  /** Instances running on it at its last heartbeat. */
  load: number;
}

export interface NodeDirectory {
  /** The live nodes in the order to try for `key` (`<deployment>:<function>`); empty when none is known. */
  candidates(key: string): FunctionNode[];
  /** A node that did not take a call: tried after every other for a few seconds. */
  unreachable(id: string): void;
  /** Resolves once a node is known, or once a new proxy has waited a heartbeat for one. */
  settled(): Promise<void>;
  /** The live nodes, for /metrics and tests. */
  nodes(): FunctionNode[];
  stop(): Promise<void>;
}

interface Known extends FunctionNode {
  /** Our clock when it last announced itself. */
  seenAt: number;
  unreachableUntil: number;
}

export interface DirectoryOptions {
  /** Overrides NODE_TIMEOUT_MS (tests). */
  timeoutMs?: number;
}

export async function watchFunctionNodes(
  deps: { bus: Bus; nodeAuth: NodeAuth; log: Logger; metrics?: Metrics },
  options: DirectoryOptions = {},
): Promise<NodeDirectory> {
  const timeoutMs = options.timeoutMs ?? NODE_TIMEOUT_MS;
  const log = deps.log.child({ part: "function-nodes" });
  const known = new Map<string, Known>();
  const startedAt = Date.now();
  let waiting: (() => void)[] = [];
  let refused = 0;

  function forget(id: string, why: string): void {
    if (known.delete(id)) log.info(`functions node ${id} ${why}`, { nodes: known.size });
  }

  function expire(now: number): void {
    for (const node of known.values())
      if (now - node.seenAt > timeoutMs) forget(node.id, `left: no heartbeat for ${timeoutMs / 1000} s`);
  }

  const subscription: Subscription = await deps.bus.consume(
    "function-nodes",
    `proxy-nodes-${crypto.randomUUID()}`,
    async (value) => {
      const message = verified(deps.nodeAuth, value);
      if (!message) {
        // Once per burst: a node with another MINIVERCEL_SECRET_KEY would otherwise log every heartbeat.
        if (refused++ % 100 === 0)
          log.warn(
            "functions nodes: refused an announcement that is not signed with this installation's key, or is stale",
          );
        return;
      }
      if (message.type === "probe") return;
      if (message.type === "leaving") return forget(message.id, "is stopping");
      const now = Date.now();
      const before = known.get(message.id);
      const { id, url, capacity, load } = message;
      known.set(id, {
        id,
        url,
        capacity,
        load,
        seenAt: now,
        // A node heard from after it failed a call is worth trying first again only once its pause is over.
        unreachableUntil: before?.unreachableUntil ?? 0,
      });
      if (!before || before.url !== url)
        log.info(`functions node ${id} joined at ${url}`, { capacity, nodes: known.size });
      for (const resolve of waiting) resolve();
      waiting = [];
    },
    { transient: true },
  );
  // Nodes answer a probe at once: a new proxy knows them within a round trip instead of a heartbeat.
  await deps.bus.publish("function-nodes", "probe", signed(deps.nodeAuth, { type: "probe", at: Date.now() }));
  const sweep = setInterval(() => expire(Date.now()), HEARTBEAT_MS);
  sweep.unref();
  /** ready: has room; full: at its capacity; unreachable: failed a call within the last seconds. */
  const stateOf = (node: Known, now: number) =>
    node.unreachableUntil > now ? "unreachable" : node.load >= node.capacity ? "full" : "ready";
  const unwatch = deps.metrics?.registry.collect(
    "minivercel_function_nodes",
    "Functions nodes this proxy knows (PROXY_FUNCTIONS=remote), by state (ready, full, unreachable).",
    "gauge",
    () => {
      const now = Date.now();
      expire(now);
      const counts = { ready: 0, full: 0, unreachable: 0 };
      for (const node of known.values()) counts[stateOf(node, now)] += 1;
      return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
    },
  );

  return {
    candidates(key) {
      const now = Date.now();
      expire(now);
      const ranked = rank(
        key,
        [...known.values()].map((node) => ({ ...node, weight: node.capacity })),
      );
      // Stable partition of the ranking: room first, then full nodes, then nodes that just failed.
      return (["ready", "full", "unreachable"] as const).flatMap((state) =>
        ranked
          .filter((node) => stateOf(node, now) === state)
          .map(({ id, url, capacity, load }) => ({ id, url, capacity, load })),
      );
    },
    unreachable(id) {
      const node = known.get(id);
      if (node) node.unreachableUntil = Date.now() + UNREACHABLE_MS;
    },
    settled() {
      const left = startedAt + HEARTBEAT_MS * 1.5 - Date.now();
      if (known.size > 0 || left <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    nodes: () => [...known.values()].map(({ id, url, capacity, load }) => ({ id, url, capacity, load })),
    async stop() {
      unwatch?.();
      clearInterval(sweep);
      for (const resolve of waiting) resolve();
      waiting = [];
      await subscription.stop();
    },
  };
}

// The proxy's view of the functions nodes, over the in-process bus: who is live (signed, recent announcements
// only), who is tried first for a function, and how nodes leave (cleanly, silently, or failing a call).

import { afterEach, describe, expect, test } from "bun:test";
import type { Bus } from "../bus/bus.ts";
import { memoryBus } from "../bus/bus-memory.ts";
import { createNodeAuth } from "../identity/node-auth.ts";
import { createLogger } from "../observe/log.ts";
import { createMetrics } from "../observe/metrics.ts";
import { signed } from "../runtime/node-wire.ts";
import { type NodeDirectory, watchFunctionNodes } from "./function-nodes.ts";
import { rank } from "./rendezvous.ts";

const log = createLogger({ format: "json", level: "error" });
const nodeAuth = createNodeAuth(crypto.getRandomValues(new Uint8Array(32)));
const stopped: NodeDirectory[] = [];
afterEach(async () => {
  for (const directory of stopped.splice(0)) await directory.stop();
});

const metrics = createMetrics();

async function watching(bus: Bus, timeoutMs?: number): Promise<NodeDirectory> {
  const directory = await watchFunctionNodes(
    { bus, nodeAuth, log, metrics },
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  stopped.push(directory);
  return directory;
}

const ids = Array.from({ length: 4 }, () => crypto.randomUUID());
const announce = (bus: Bus, id: string, more: { capacity?: number; load?: number; at?: number } = {}) =>
  bus.publish(
    "function-nodes",
    id,
    signed(nodeAuth, {
      type: "node",
      id,
      url: `http://fn-${id.slice(0, 4)}:8002`,
      capacity: more.capacity ?? 10,
      load: more.load ?? 0,
      at: more.at ?? Date.now(),
    }),
  );
const order = (directory: NodeDirectory, key: string) => directory.candidates(key).map((n) => n.id);

describe("the live set", () => {
  test("announced nodes are candidates in rendezvous order; the proxy probes for them at start", async () => {
    const bus = memoryBus(log);
    const probes: unknown[] = [];
    await bus.consume("function-nodes", "test-probes", async (value) => void probes.push(value));
    const directory = await watching(bus);
    expect(probes).toEqual([expect.objectContaining({ type: "probe", sig: expect.any(String) })]);
    for (const id of ids) await announce(bus, id);
    await Bun.sleep(10);
    const expected = rank(
      "d:/api/x",
      ids.map((id) => ({ id, weight: 10 })),
    ).map((n) => n.id);
    expect(order(directory, "d:/api/x")).toEqual(expected);
    const top = expected[0] ?? "";
    expect(directory.candidates("d:/api/x")[0]).toEqual({
      id: top,
      url: `http://fn-${top.slice(0, 4)}:8002`,
      capacity: 10,
      load: 0,
    });
  });

  test("announcements not signed with the installation's key, tampered with or stale are ignored", async () => {
    const bus = memoryBus(log);
    const directory = await watching(bus);
    const [a, b, c, d] = ids;
    if (!a || !b || !c || !d) throw new Error("ids");
    const other = createNodeAuth(crypto.getRandomValues(new Uint8Array(32)));
    const base = {
      type: "node" as const,
      id: a,
      url: "http://evil:8002",
      capacity: 10,
      load: 0,
      at: Date.now(),
    };
    await bus.publish("function-nodes", a, signed(other, base));
    const genuine = signed(nodeAuth, { ...base, id: b, url: "http://fn-b:8002" });
    await bus.publish("function-nodes", b, { ...genuine, url: "http://evil:8002" });
    await bus.publish("function-nodes", b, { ...genuine, sig: undefined });
    await announce(bus, c, { at: Date.now() - 5 * 60_000 });
    await bus.publish("function-nodes", d, { type: "node", id: d, url: "http://evil:8002" });
    await Bun.sleep(10);
    expect(directory.nodes()).toEqual([]);
    await bus.publish("function-nodes", b, genuine);
    await Bun.sleep(10);
    expect(directory.nodes().map((n) => n.url)).toEqual(["http://fn-b:8002"]);
  });

  test("a node is gone at once when it says it leaves, and after the timeout when it goes quiet", async () => {
    const bus = memoryBus(log);
    const directory = await watching(bus, 300);
    const [a, b] = ids;
    if (!a || !b) throw new Error("ids");
    await announce(bus, a);
    await announce(bus, b);
    await Bun.sleep(10);
    expect(directory.nodes()).toHaveLength(2);
    await bus.publish("function-nodes", a, signed(nodeAuth, { type: "leaving", id: a, at: Date.now() }));
    await Bun.sleep(10);
    expect(directory.nodes().map((n) => n.id)).toEqual([b]);
    // b keeps beating for a while, then stops.
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(150);
      await announce(bus, b);
      expect(order(directory, "k")).toEqual([b]);
    }
    await Bun.sleep(400);
    expect(order(directory, "k")).toEqual([]);
  });
});

describe("the order for one function", () => {
  test("a node at capacity comes after those with room; one that failed a call comes last", async () => {
    const bus = memoryBus(log);
    const directory = await watching(bus);
    for (const id of ids) await announce(bus, id);
    await Bun.sleep(10);
    const key = "deployment:/api/fn";
    const [first, second, third, fourth] = order(directory, key);
    if (!first || !second || !third || !fourth) throw new Error("four nodes");
    await announce(bus, first, { capacity: 10, load: 10 });
    await Bun.sleep(10);
    expect(order(directory, key)).toEqual([second, third, fourth, first]);
    directory.unreachable(second);
    expect(order(directory, key)).toEqual([third, fourth, first, second]);
    const exposed = await metrics.registry.expose();
    for (const [state, n] of [
      ["ready", 2],
      ["full", 1],
      ["unreachable", 1],
    ])
      expect(exposed).toContain(`minivercel_function_nodes{state="${state}"} ${n}\n`);
    // Capacity is also the weight: a node announcing more of it wins more functions (rank's own test).
    await announce(bus, first, { capacity: 10, load: 3 });
    await Bun.sleep(10);
    expect(order(directory, key)).toEqual([first, third, fourth, second]);
  });

  test("a new proxy waits for the first announcement instead of answering 503 at once", async () => {
    const bus = memoryBus(log);
    const directory = await watching(bus);
    const [a] = ids;
    if (!a) throw new Error("ids");
    let settled = false;
    const waiting = directory.settled().then(() => {
      settled = true;
    });
    await Bun.sleep(100);
    expect(settled).toBe(false);
    await announce(bus, a);
    await waiting;
    expect(order(directory, "k")).toEqual([a]);
  });

  test("with no node at all, the wait ends after a heartbeat and a half", async () => {
    const directory = await watching(memoryBus(log));
    await directory.settled();
    expect(directory.candidates("k")).toEqual([]);
  });
});

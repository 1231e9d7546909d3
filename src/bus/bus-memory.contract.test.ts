// Runs the bus contract on the in-process bus (its own unit tests are in bus-memory.test.ts).

import { afterAll } from "bun:test";
import { busContract } from "./bus.contract.ts";
import { memoryBus } from "./bus-memory.ts";

const bus = memoryBus();
afterAll(() => bus.close());

busContract({
  name: "memory",
  open: async () => bus,
  // One consumer per group, and a group exists only while subscribed: see the interface for what these mean.
  sharedGroups: false,
  durableGroups: false,
  timeoutMs: 5_000,
});

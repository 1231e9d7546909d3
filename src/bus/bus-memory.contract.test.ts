// Runs the bus contract on the in-process bus (its own unit tests are in bus-memory.test.ts).

import { afterAll } from "bun:test";
import { busContract } from "./bus.contract.ts";
import { busBatchesContract } from "./bus-batches.contract.ts";
import { memoryBus } from "./bus-memory.ts";
import { HANDLER_RETRY } from "./retry.ts";

// The same retry policy with short waits: the contract's failing handlers cost milliseconds, not seconds.
const bus = memoryBus(undefined, { ...HANDLER_RETRY, backoffMs: 10, maxBackoffMs: 200 });
afterAll(() => bus.close());

const underTest = {
  name: "memory",
  open: async () => bus,
  // One consumer per group, and a group exists only while subscribed: see the interface for what these mean.
  sharedGroups: false,
  durableGroups: false,
  timeoutMs: 5_000,
};
busContract(underTest);
busBatchesContract(underTest);

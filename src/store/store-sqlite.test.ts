// Runs the store contract on bun:sqlite, in memory and on a WAL file.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobClaimsContract } from "./blob-claims.contract.ts";
import { cronRunsContract } from "./cron-runs.contract.ts";
import { domainsContract } from "./domains.contract.ts";
import { envContract } from "./env.contract.ts";
import { limitsContract } from "./limits.contract.ts";
import { outgoingHooksContract } from "./outgoing-hooks.contract.ts";
import { protectionContract } from "./protection.contract.ts";
import { storeContract } from "./store.contract.ts";
import { openSqliteStore } from "./store-sqlite.ts";

storeContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

const dir = mkdtempSync(join(tmpdir(), "minivercel-store-"));
storeContract("sqlite file (WAL)", async () => {
  const store = openSqliteStore(join(dir, "minivercel.db"));
  await store.migrate();
  return store;
});

domainsContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

envContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

// One store per case: a claim takes the oldest QUEUED deployment of all, so no other case may leave any.
limitsContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

protectionContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

blobClaimsContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

cronRunsContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

outgoingHooksContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

// Runs the store contract on bun:sqlite, in memory and on a WAL file.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobClaimsContract } from "./blob-claims.contract.ts";
import { cronRunsContract } from "./cron-runs.contract.ts";
import { deploymentsContract } from "./deployments.contract.ts";
import { domainsContract } from "./domains.contract.ts";
import { envContract } from "./env.contract.ts";
import { gitReportsContract } from "./git-reports.contract.ts";
import { limitsContract } from "./limits.contract.ts";
import { deliveriesUse, outboxContract, reportsUse } from "./outbox.contract.ts";
import { outgoingHooksContract } from "./outgoing-hooks.contract.ts";
import { protectionContract } from "./protection.contract.ts";
import { routingContract } from "./routing.contract.ts";
import { storeContract } from "./store.contract.ts";
import { openSqliteStore } from "./store-sqlite.ts";
import { teamsContract } from "./teams.contract.ts";
import { webhooksContract } from "./webhooks.contract.ts";

/** A fresh migrated store in memory, per case. */
async function memoryStore() {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
}

// The core contracts run on a WAL file too: a store opened on it per case, as the processes of a server do.
const dir = mkdtempSync(join(tmpdir(), "minivercel-store-"));
async function walStore() {
  const store = openSqliteStore(join(dir, "minivercel.db"));
  await store.migrate();
  return store;
}
for (const [name, open] of [
  ["sqlite :memory:", memoryStore],
  ["sqlite file (WAL)", walStore],
] as const) {
  storeContract(name, open);
  deploymentsContract(name, open);
  routingContract(name, open);
  webhooksContract(name, open);
}

domainsContract("sqlite :memory:", memoryStore);

envContract("sqlite :memory:", memoryStore);

// A store per case for the limits too: a claim takes the oldest QUEUED deployment of all.
limitsContract("sqlite :memory:", memoryStore);

protectionContract("sqlite :memory:", memoryStore);

blobClaimsContract("sqlite :memory:", memoryStore);

cronRunsContract("sqlite :memory:", memoryStore);
outgoingHooksContract("sqlite :memory:", memoryStore);
teamsContract("sqlite :memory:", memoryStore);
gitReportsContract("sqlite :memory:", memoryStore);
// The outbox both share, once per use.
outboxContract("sqlite :memory:", memoryStore, deliveriesUse());
outboxContract("sqlite :memory:", memoryStore, reportsUse());

// Runs the store contract on bun:sqlite, in memory and on a WAL file.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobClaimsContract } from "./blob-claims.contract.ts";
import { cronRunsContract } from "./cron-runs.contract.ts";
import { domainsContract } from "./domains.contract.ts";
import { envContract } from "./env.contract.ts";
import { gitReportsContract } from "./git-reports.contract.ts";
import { limitsContract } from "./limits.contract.ts";
import { deliveriesUse, outboxContract, reportsUse } from "./outbox.contract.ts";
import { outgoingHooksContract } from "./outgoing-hooks.contract.ts";
import { protectionContract } from "./protection.contract.ts";
import { storeContract } from "./store.contract.ts";
import { openSqliteStore } from "./store-sqlite.ts";
import { teamsContract } from "./teams.contract.ts";

/** A fresh migrated store in memory, per case. */
async function memoryStore() {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
}

storeContract("sqlite :memory:", memoryStore);

const dir = mkdtempSync(join(tmpdir(), "minivercel-store-"));
storeContract("sqlite file (WAL)", async () => {
  const store = openSqliteStore(join(dir, "minivercel.db"));
  await store.migrate();
  return store;
});

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

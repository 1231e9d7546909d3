// Runs the automatic-HTTPS repository contract on bun:sqlite.

import { certificatesContract } from "./certs.contract.ts";
import { openSqliteStore } from "./store-sqlite.ts";

certificatesContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

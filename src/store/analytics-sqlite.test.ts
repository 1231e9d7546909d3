// Runs the analytics store contract on bun:sqlite, and the daily salts on the sqlite store.

import { expect, test } from "bun:test";
import { analyticsContract } from "./analytics.contract.ts";
import { saltsContract } from "./analytics-salts.contract.ts";
import { openSqliteAnalytics } from "./analytics-sqlite.ts";
import { openSqliteStore } from "./store-sqlite.ts";

analyticsContract("sqlite :memory:", async () => openSqliteAnalytics(":memory:"));

saltsContract("sqlite :memory:", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return store;
});

test("the table lives beside the logs in logs.db and survives a reopen", async () => {
  const dir = `${process.env.TMPDIR ?? "/tmp"}/mv-analytics-${crypto.randomUUID()}`;
  const { mkdirSync, rmSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  try {
    const { analyticsRow, T0 } = await import("./analytics.contract.ts");
    const p = crypto.randomUUID();
    const first = openSqliteAnalytics(`${dir}/logs.db`);
    await first.append(crypto.randomUUID(), [analyticsRow(p, { requests: 3 })]);
    await first.close();
    const again = openSqliteAnalytics(`${dir}/logs.db`);
    const all = await again.group({ projectId: p, from: T0, to: T0 + 60, bot: false }, { kind: "all" });
    expect(all[0]?.requests).toBe(3);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Web analytics end to end on the embedded defaults: one process with every role (sqlite store and analytics,
// the in-process bus), traffic through its proxy port, the numbers in the API and in Debian's chromium.

import { Database } from "bun:sqlite";
import { join } from "node:path";
import { startRoles } from "../roles.ts";
import { analyticsEndToEnd } from "../testing/analytics-traffic.ts";
import { testDeps } from "../testing/deps.ts";

analyticsEndToEnd("sqlite", async () => {
  const deps = await testDeps({
    PORT: "0",
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "all",
    TRUST_PROXY: "1",
    ANALYTICS_FLUSH_SECONDS: "1",
  });
  const roles = await startRoles(deps);
  const proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  return {
    api: roles.urls.api ?? "",
    apiDeps: deps,
    proxyPort,
    async storedRows() {
      const rows: unknown[] = [];
      for (const [file, table] of [
        ["logs.db", "analytics"],
        ["minivercel.db", "analytics_salts"],
      ] as const) {
        const db = new Database(join(deps.config.dataDir, file), { readonly: true });
        rows.push(...db.query(`SELECT * FROM ${table}`).all());
        db.close();
      }
      return JSON.stringify(rows);
    },
    async stop() {
      await roles.stop();
      await deps.close();
    },
  };
});

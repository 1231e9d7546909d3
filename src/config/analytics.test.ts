import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { tempDir } from "../testing/deps.ts";
import { parseAnalytics } from "./analytics.ts";
import { loadConfig } from "./config.ts";

const refused = (env: Record<string, string>, variable: string) => {
  let caught: unknown;
  try {
    parseAnalytics(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).message).toContain(variable);
};

test("analytics: on, 90 days, a flush every 5 s and no GeoIP file by default", () => {
  expect(loadConfig({}).analytics).toEqual({
    enabled: true,
    retentionDays: 90,
    flushSeconds: 5,
    sampleAbove: 1000,
    geoipCsv: null,
  });
});

test("analytics settings are read and checked, naming the variable", () => {
  const csv = join(tempDir(), "countries.csv");
  writeFileSync(csv, "1.0.0.0,1.0.0.255,AU\n");
  expect(
    parseAnalytics({
      ANALYTICS: "false",
      ANALYTICS_RETENTION_DAYS: "30",
      ANALYTICS_FLUSH_SECONDS: "1",
      ANALYTICS_SAMPLE_ABOVE: "0",
      ANALYTICS_GEOIP_CSV: csv,
    }),
  ).toEqual({ enabled: false, retentionDays: 30, flushSeconds: 1, sampleAbove: 0, geoipCsv: csv });
  refused({ ANALYTICS_SAMPLE_ABOVE: "-1" }, "ANALYTICS_SAMPLE_ABOVE");
  refused({ ANALYTICS: "maybe" }, "ANALYTICS");
  refused({ ANALYTICS_RETENTION_DAYS: "0" }, "ANALYTICS_RETENTION_DAYS");
  refused({ ANALYTICS_FLUSH_SECONDS: "a while" }, "ANALYTICS_FLUSH_SECONDS");
  refused({ ANALYTICS_GEOIP_CSV: "/no/such/file.csv" }, "ANALYTICS_GEOIP_CSV");
});

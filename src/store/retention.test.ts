// The retention timer the age-keeping stores share: at once, then regularly, one at a time, failures reported.

import { expect, test } from "bun:test";
import { purgeRegularly } from "./retention.ts";

test("purges at once, then every interval; a turn is skipped while the last purge still runs", async () => {
  let started = 0;
  let release = () => {};
  const stop = purgeRegularly(
    () => {
      started++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    (error) => {
      throw error;
    },
    10,
  );
  expect(started).toBe(1);
  await Bun.sleep(60);
  expect(started).toBe(1);
  release();
  await Bun.sleep(40);
  expect(started).toBe(2);
  release();
  stop();
  await Bun.sleep(40);
  expect(started).toBe(2);
});

test("a failed purge is reported and the next turn tries again", async () => {
  const failures: unknown[] = [];
  let turns = 0;
  const stop = purgeRegularly(
    async () => {
      turns++;
      if (turns === 1) throw new Error("ClickHouse is down");
    },
    (error) => failures.push(error),
    10,
  );
  await Bun.sleep(50);
  stop();
  expect(failures).toEqual([new Error("ClickHouse is down")]);
  expect(turns).toBeGreaterThan(1);
});

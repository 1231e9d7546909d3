// The daily salts contract: one salt per day whoever asks first, old days deleted.

import { describe, expect, test } from "bun:test";
import type { Store } from "./store.ts";

export function saltsContract(name: string, open: () => Promise<Store>): void {
  describe(`analytics salts contract: ${name}`, () => {
    test("the first salt of a day is everyone's; days before keepFrom are deleted", async () => {
      const { analyticsSalts } = await open();
      const first = await analyticsSalts.salt("2030-01-01", "a".repeat(64), "2029-12-31");
      expect(first).toBe("a".repeat(64));
      expect(await analyticsSalts.salt("2030-01-01", "b".repeat(64), "2029-12-31")).toBe(first);
      await analyticsSalts.salt("2030-01-02", "c".repeat(64), "2030-01-01");
      expect(await analyticsSalts.days()).toEqual(["2030-01-01", "2030-01-02"]);
      await analyticsSalts.salt("2030-01-03", "d".repeat(64), "2030-01-02");
      expect(await analyticsSalts.days()).toEqual(["2030-01-02", "2030-01-03"]);
      // A concurrent first ask: one salt wins.
      const raced = await Promise.all(
        ["e", "f", "0", "1"].map((c) => analyticsSalts.salt("2030-01-04", c.repeat(64), "2030-01-03")),
      );
      expect(new Set(raced).size).toBe(1);
    });
  });
}

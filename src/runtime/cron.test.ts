// Cron expressions as Vercel reads them (UTC, five fields), and when they fire next.

import { describe, expect, test } from "bun:test";
import { firesAt, nextFire, parseSchedule, type Schedule } from "./cron.ts";

const at = (iso: string) => new Date(iso);
const schedule = (expression: string): Schedule => {
  const parsed = parseSchedule(expression);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
};

describe("cron schedules", () => {
  test("every field form: *, numbers, ranges, steps, lists; Sunday is 0 and 7", () => {
    expect(nextFire(schedule("*/15 * * * *"), at("2026-12-06T10:07:30Z"))?.toISOString()).toBe(
      "2026-12-06T10:15:00.000Z",
    );
    expect(nextFire(schedule("0 9-17/4 * * *"), at("2026-12-06T10:00:00Z"))?.toISOString()).toBe(
      "2026-12-06T13:00:00.000Z",
    );
    expect(nextFire(schedule("30 2 1,15 * *"), at("2026-12-06T00:00:00Z"))?.toISOString()).toBe(
      "2026-12-15T02:30:00.000Z",
    );
    // 2026-12-06 is a Sunday.
    expect(firesAt(schedule("0 0 * * 7"), at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(firesAt(schedule("0 0 * * 0"), at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(nextFire(schedule("0 0 1 1 *"), at("2026-12-06T00:00:00Z"))?.toISOString()).toBe(
      "2027-01-01T00:00:00.000Z",
    );
  });

  test("both day fields restricted: either one matching fires", () => {
    const s = schedule("0 12 13 * 5");
    expect(firesAt(s, at("2026-12-13T12:00:00Z"))).toBe(true); // the 13th, a Sunday
    expect(firesAt(s, at("2026-12-11T12:00:00Z"))).toBe(true); // a Friday
    expect(firesAt(s, at("2026-12-12T12:00:00Z"))).toBe(false);
  });

  test("what is not a schedule is named", () => {
    expect(parseSchedule("* * * *")).toContain("must have five fields");
    expect(parseSchedule("60 * * * *")).toBe('the minute field "60" is outside 0-59');
    expect(parseSchedule("@daily * * * *")).toContain("is not a number, range, step or list");
    expect(parseSchedule("0 0 * JAN *")).toContain("month field");
    expect(nextFire(schedule("0 0 31 2 *"), at("2026-12-06T00:00:00Z"))).toBeNull();
  });
});

// Commit points: only up to the first message not yet applied, never backward, re-fetches taken once.

import { expect, test } from "bun:test";
import { partitionTrack } from "./offsets.ts";

test("commit point stops at the lowest message still in flight", () => {
  const track = partitionTrack(0);
  expect(track.due()).toBeNull();
  for (const offset of [10n, 11n, 12n, 13n]) expect(track.take(offset)).toBe(true);
  expect(track.due()).toBe(10n);
  track.done(11n);
  track.done(13n);
  expect(track.due()).toBe(10n);
  track.done(10n);
  expect(track.due()).toBe(12n);
  track.committed(12n);
  expect(track.due()).toBeNull();
  track.done(12n);
  expect(track.due()).toBe(14n);
  expect(track.inFlight).toBe(0);
});

test("a re-fetch of offsets already taken is refused, gaps (compaction, control records) are fine", () => {
  const track = partitionTrack(3);
  expect(track.take(5n)).toBe(true);
  expect(track.take(8n)).toBe(true);
  expect(track.take(5n)).toBe(false);
  expect(track.take(7n)).toBe(false);
  track.done(5n);
  track.done(8n);
  expect(track.due()).toBe(9n);
});

test("a pinned start is committed before any message arrives, and never moves backward", () => {
  const track = partitionTrack(1, 40n);
  expect(track.due()).toBe(40n);
  expect(track.take(39n)).toBe(false);
  track.committed(40n);
  expect(track.due()).toBeNull();
  track.committed(30n);
  expect(track.due()).toBeNull();
  expect(track.take(40n)).toBe(true);
  expect(track.due()).toBeNull();
  track.done(40n);
  expect(track.due()).toBe(41n);
});

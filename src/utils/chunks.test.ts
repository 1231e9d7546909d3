import { expect, test } from "bun:test";
import { chunks, chunksByWeight } from "./chunks.ts";

test("chunks: runs of at most n, in order", () => {
  expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  expect(chunks([], 3)).toEqual([]);
});

test("chunksByWeight: within the budget, an item heavier than it alone, nothing lost or reordered", () => {
  expect(chunksByWeight([3, 3, 3, 10, 1, 1], 6, (n) => n)).toEqual([[3, 3], [3], [10], [1, 1]]);
  expect(chunksByWeight([], 6, (n: number) => n)).toEqual([]);
});

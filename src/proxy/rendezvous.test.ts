// Rendezvous hashing: every proxy ranks nodes alike, shares follow weights, and a node joining or leaving moves
// only the functions it takes or held.

import { describe, expect, test } from "bun:test";
import { rank, type Weighted } from "./rendezvous.ts";

const node = (id: string, weight = 1): Weighted => ({ id, weight });
const KEYS = Array.from({ length: 20_000 }, (_, i) => `deployment-${i}:/api/f${i % 7}`);
const winners = (nodes: Weighted[]) => KEYS.map((key) => rank(key, nodes)[0]?.id);
const shares = (nodes: Weighted[]) => {
  const counts = new Map<string, number>();
  for (const id of winners(nodes)) counts.set(id ?? "", (counts.get(id ?? "") ?? 0) + 1);
  return Object.fromEntries(nodes.map((n) => [n.id, (counts.get(n.id) ?? 0) / KEYS.length]));
};

describe("rank", () => {
  test("the same order for a key whatever order the nodes are known in; every node once", () => {
    const nodes = ["a", "b", "c", "d"].map((id) => node(id));
    for (const key of KEYS.slice(0, 200)) {
      const order = rank(key, nodes).map((n) => n.id);
      expect(rank(key, [...nodes].reverse()).map((n) => n.id)).toEqual(order);
      expect([...order].sort()).toEqual(["a", "b", "c", "d"]);
    }
    // Different keys do not all land on one node.
    expect(new Set(winners(nodes)).size).toBe(4);
    expect(rank("k", [])).toEqual([]);
  });

  test("each node wins a share of the keys proportional to its weight", () => {
    const even = shares(["a", "b", "c"].map((id) => node(id)));
    for (const share of Object.values(even)) expect(Math.abs(share - 1 / 3)).toBeLessThan(0.03);
    const weighted = shares([node("small", 1), node("medium", 2), node("large", 5)]);
    expect(Math.abs((weighted.small ?? 0) - 1 / 8)).toBeLessThan(0.02);
    expect(Math.abs((weighted.medium ?? 0) - 2 / 8)).toBeLessThan(0.02);
    expect(Math.abs((weighted.large ?? 0) - 5 / 8)).toBeLessThan(0.02);
  });

  test("a node leaving moves only its keys; a node joining takes keys only for itself", () => {
    const four = ["a", "b", "c", "d"].map((id) => node(id));
    const before = winners(four);
    const after = winners(four.filter((n) => n.id !== "c"));
    before.forEach((id, i) => {
      if (id !== "c") expect(after[i]).toBe(id);
    });
    const five = winners([...four, node("e")]);
    let moved = 0;
    before.forEach((id, i) => {
      if (five[i] !== id) {
        expect(five[i]).toBe("e");
        moved++;
      }
    });
    expect(Math.abs(moved / KEYS.length - 1 / 5)).toBeLessThan(0.03);
  });
});

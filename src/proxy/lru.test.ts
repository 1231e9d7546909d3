// The proxy's bounded LRU: eviction order and the weight bound.

import { expect, test } from "bun:test";
import { lru } from "./lru.ts";

test("evicts the least recently used entry past the count bound", () => {
  const cache = lru<string, number>(2);
  cache.set("a", 1);
  cache.set("b", 2);
  expect(cache.get("a")).toBe(1);
  cache.set("c", 3);
  expect(cache.get("b")).toBeUndefined();
  expect(cache.get("a")).toBe(1);
  expect(cache.get("c")).toBe(3);
  expect(cache.size).toBe(2);
});

test("bounds the total weight; replacing an entry re-weighs it; too heavy is not kept", () => {
  const cache = lru<string, Uint8Array>(10, (v) => v.byteLength);
  cache.set("a", new Uint8Array(4));
  cache.set("b", new Uint8Array(4));
  expect(cache.weight).toBe(8);
  cache.set("a", new Uint8Array(2));
  expect(cache.weight).toBe(6);
  cache.set("c", new Uint8Array(6));
  expect(cache.get("b")).toBeUndefined();
  expect(cache.weight).toBe(8);
  cache.set("huge", new Uint8Array(11));
  expect(cache.get("huge")).toBeUndefined();
  expect(cache.weight).toBe(8);
  cache.delete("a");
  cache.clear();
  expect(cache.size).toBe(0);
  expect(cache.weight).toBe(0);
});

test("a kept slot reads its value until the entry leaves, by eviction, replacement, delete or clear", () => {
  const cache = lru<string, number>(2);
  expect(cache.slot("nothing")).toBeUndefined();
  cache.set("a", 1);
  // Taking the slot counts as a use: "a" gets a second chance, "b" goes first.
  const a = cache.slot("a");
  cache.set("b", 2);
  cache.set("c", 3);
  expect(cache.get("b")).toBeUndefined();
  expect(a?.value).toBe(1);
  cache.set("d", 4);
  expect(cache.get("c")).toBeUndefined();
  expect(a?.value).toBe(1);
  // Not used since: evicted, and the slot no longer holds its value.
  cache.set("e", 5);
  expect(cache.get("a")).toBeUndefined();
  expect(a?.value).toBeUndefined();
  // Replaced: the old slot is empty, a new one holds the new value.
  const d = cache.slot("d");
  cache.set("d", 40);
  expect(d?.value).toBeUndefined();
  const replaced = cache.slot("d");
  expect(replaced?.value).toBe(40);
  cache.delete("d");
  expect(replaced?.value).toBeUndefined();
  const e = cache.slot("e");
  expect(e?.value).toBe(5);
  cache.clear();
  expect(e?.value).toBeUndefined();
});

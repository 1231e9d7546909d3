// The log store contract: the same cases run against every Logs implementation (sqlite and ClickHouse).

import { describe, expect, test } from "bun:test";
import type { LogLine, LogStream, Logs } from "./logs.ts";

/** A line of a deployment; seq, stream, text and time derive from `seq` unless given. */
export function line(deploymentId: string, seq: number, overrides: Partial<LogLine> = {}): LogLine {
  const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, seq % 1000)).toISOString();
  const stream: LogStream = seq % 3 === 0 ? "stderr" : seq % 5 === 0 ? "system" : "stdout";
  return { deploymentId, seq, stream, text: `line ${seq}`, at, ...overrides };
}

const lines = (deploymentId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => line(deploymentId, from + i));

/** Text a build prints that a store must give back byte for byte. */
export const AWKWARD_TEXTS = [
  "\u001b[31merror\u001b[0m \u001b[1;32m✓ built\u001b[0m in 1.2s",
  "<script>alert('x')</script> & &amp; \"quoted\"",
  "emoji 😀👩‍👩‍👧 CJK 日本語 RTL שלום combining é zero-width[\u200b] bom[\ufeff] U+2028[\u2028]",
  "quotes ' '' \" \\ \\' \\\\ backslash-n \\n tab\tcr\r",
  "'); DROP TABLE log_events; -- {x} $\u{7b}y} %s ? $1 :name",
  "",
  "   leading and trailing spaces   ",
];

/** `open` returns a ready store; each case uses fresh deployment ids, so one store may serve every case. */
export function logsContract(name: string, open: () => Promise<Logs>): void {
  describe(`logs contract: ${name}`, () => {
    test("append then read: seq order, every field as written", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const [l1, l2, l3, l4] = lines(id, 1, 4);
      if (!l1 || !l2 || !l3 || !l4) throw new Error("fixture");
      await logs.append([l3, l1]);
      await logs.append([l4]);
      await logs.append([l2]);
      expect(await logs.read(id, 0, 100)).toEqual([l1, l2, l3, l4]);
    });

    test("re-appending a stored (deploymentId, seq) keeps one line", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const batch = lines(id, 1, 5);
      await logs.append(batch);
      await logs.append(batch);
      await logs.append(batch.slice(1, 3));
      expect(await logs.read(id, 0, 100)).toEqual(batch);
      // A copy that differs still leaves exactly one line for that seq (which copy is the backend's choice).
      await logs.append([line(id, 2, { text: "changed" })]);
      const again = await logs.read(id, 0, 100);
      expect(again.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(["line 2", "changed"]).toContain(again[1]?.text ?? "");
    });

    test("paging with afterSeq and limit", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      await logs.append(lines(id, 1, 25));
      const seqs = async (after: number, limit: number) =>
        (await logs.read(id, after, limit)).map((l) => l.seq);
      expect(await seqs(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs(10, 10)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(await seqs(20, 10)).toEqual([21, 22, 23, 24, 25]);
      expect(await seqs(25, 10)).toEqual([]);
      expect(await seqs(1000, 10)).toEqual([]);
      expect(await seqs(3, 1)).toEqual([4]);
      expect(await seqs(0, 0)).toEqual([]);
    });

    test("gaps in seq: afterSeq need not be a stored seq", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      await logs.append([line(id, 2), line(id, 4), line(id, 6), line(id, 100)]);
      expect((await logs.read(id, 3, 10)).map((l) => l.seq)).toEqual([4, 6, 100]);
      expect((await logs.read(id, 6, 10)).map((l) => l.seq)).toEqual([100]);
    });

    test("deployments are isolated, in one append and across removes", async () => {
      const logs = await open();
      const a = crypto.randomUUID();
      const b = crypto.randomUUID();
      await logs.append([line(a, 1, { text: "a1" }), line(b, 1, { text: "b1" }), line(a, 2, { text: "a2" })]);
      expect((await logs.read(a, 0, 10)).map((l) => l.text)).toEqual(["a1", "a2"]);
      expect((await logs.read(b, 0, 10)).map((l) => l.text)).toEqual(["b1"]);
      await logs.remove([a]);
      expect(await logs.read(a, 0, 10)).toEqual([]);
      expect((await logs.read(b, 0, 10)).map((l) => l.text)).toEqual(["b1"]);
    });

    test("remove: every line of every given deployment; unknown ids and [] are fine", async () => {
      const logs = await open();
      const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      await logs.append([...lines(a, 1, 3), ...lines(b, 1, 3), ...lines(c, 1, 3)]);
      await logs.remove([a, b, crypto.randomUUID()]);
      await logs.remove([]);
      expect(await logs.read(a, 0, 10)).toEqual([]);
      expect(await logs.read(b, 0, 10)).toEqual([]);
      expect(await logs.read(c, 0, 10)).toEqual(lines(c, 1, 3));
      // A removed deployment's id can be written again (no tombstone).
      await logs.append([line(a, 7)]);
      expect(await logs.read(a, 0, 10)).toEqual([line(a, 7)]);
    });

    test("unicode, ANSI escapes, markup and SQL-looking text round-trip byte for byte", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const written = AWKWARD_TEXTS.map((text, i) => line(id, i + 1, { text }));
      await logs.append(written);
      const read = await logs.read(id, 0, 100);
      expect(read).toEqual(written);
      const bytes = (ls: LogLine[]) => ls.map((l) => Buffer.from(l.text, "utf8").toString("hex"));
      expect(bytes(read)).toEqual(bytes(written));
    });

    test("long lines (5 KB, multi-byte) are stored whole", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const ascii = "x".repeat(5 * 1024);
      const wide = "é😀".repeat(900); // ~5.4 KB of UTF-8
      await logs.append([line(id, 1, { text: ascii }), line(id, 2, { text: wide })]);
      const read = await logs.read(id, 0, 10);
      expect(read.map((l) => l.text)).toEqual([ascii, wide]);
    });

    test("empty reads: unknown deployment, nothing after the last line", async () => {
      const logs = await open();
      expect(await logs.read(crypto.randomUUID(), 0, 100)).toEqual([]);
      const id = crypto.randomUUID();
      await logs.append([]);
      expect(await logs.read(id, 0, 100)).toEqual([]);
      await logs.append([line(id, 1)]);
      expect(await logs.read(id, 1, 100)).toEqual([]);
    });

    test("one append of a worker's batch: 500 lines of 5 deployments, then an overlapping batch", async () => {
      const logs = await open();
      const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
      // Interleaved across deployments, and not in seq order within one: the store orders by seq.
      const batch = ids
        .flatMap((id) => lines(id, 1, 100))
        .sort((a, b) => ((a.seq * 7) % 13) - ((b.seq * 7) % 13));
      expect(batch.length).toBe(500);
      await logs.append(batch);
      for (const id of ids) expect(await logs.read(id, 0, 1000)).toEqual(lines(id, 1, 100));
      // A re-delivered batch that also carries new lines: the old ones stay single, the new ones land.
      await logs.append(ids.flatMap((id) => lines(id, 51, 120)));
      for (const id of ids) expect(await logs.read(id, 0, 1000)).toEqual(lines(id, 1, 120));
      expect((await logs.read(ids[0] ?? "", 99, 3)).map((l) => l.seq)).toEqual([100, 101, 102]);
    });

    test("concurrent appends all land, in seq order", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const all = lines(id, 1, 60);
      await Promise.all(all.map((l) => logs.append([l])));
      expect(await logs.read(id, 0, 100)).toEqual(all);
    });
  });
}

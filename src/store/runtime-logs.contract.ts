// The runtime log store contract: the same cases run against every RuntimeLogs implementation (sqlite, ClickHouse).

import { describe, expect, test } from "bun:test";
import { AWKWARD_TEXTS } from "./logs.contract.ts";
import type { RuntimeLogLine, RuntimeLogs } from "./runtime-logs.ts";

const BASE = Date.UTC(2025, 0, 2, 3, 4, 5);

/** Line `n` of a deployment, printed `n` seconds after BASE unless `at` is given. */
export function runtimeLine(
  deploymentId: string,
  n: number,
  overrides: Partial<RuntimeLogLine> = {},
): RuntimeLogLine {
  return {
    deploymentId,
    id: `l${String(n).padStart(6, "0")}`,
    function: n % 2 === 0 ? "/api/even" : "/api/odd",
    requestId: n % 3 === 0 ? null : `req-${n}`,
    stream: n % 5 === 0 ? "stderr" : "stdout",
    text: `line ${n}`,
    at: new Date(BASE + n * 1000).toISOString(),
    ...overrides,
  };
}

const lines = (deploymentId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => runtimeLine(deploymentId, from + i));
const newestFirst = (ls: RuntimeLogLine[]) =>
  [...ls].sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1));
const ids = (ls: RuntimeLogLine[]) => ls.map((l) => l.id);
const iso = (n: number) => new Date(BASE + n * 1000).toISOString();

/** `open` returns a ready store (no retention of its own); each case uses fresh deployment ids. */
export function runtimeLogsContract(name: string, open: () => Promise<RuntimeLogs>): void {
  describe(`runtime logs contract: ${name}`, () => {
    test("append then read: newest first, every field as written", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const written = [
        ...lines(id, 1, 4),
        runtimeLine(id, 5, { function: "", requestId: null, stream: "system", text: "a note" }),
      ];
      await logs.append([written[2], written[0], written[4]].filter((l) => l !== undefined));
      await logs.append([written[3], written[1]].filter((l) => l !== undefined));
      expect(await logs.read(id, { limit: 100 })).toEqual(newestFirst(written));
    });

    test("a line stored again (a retried write) is still one line", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const batch = lines(id, 1, 5);
      await logs.append(batch);
      await logs.append(batch);
      await logs.append(batch.slice(1, 3));
      expect(await logs.read(id, { limit: 100 })).toEqual(newestFirst(batch));
    });

    test("lines of the same millisecond are ordered by id", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const at = iso(7);
      const same = ["a", "c", "b", "a0", "B"].map((suffix) =>
        runtimeLine(id, 7, { id: `x-${suffix}`, text: suffix, at }),
      );
      await logs.append(same);
      expect((await logs.read(id, { limit: 10 })).map((l) => l.text)).toEqual(["c", "b", "a0", "a", "B"]);
    });

    test("paging newest first with `before` and `limit`, across lines of one millisecond", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const written = [
        ...lines(id, 1, 20),
        ...["a", "b", "c"].map((s) => runtimeLine(id, 10, { id: `l000010${s}` })),
      ];
      await logs.append(written);
      const all = newestFirst(written);
      const seen: RuntimeLogLine[] = [];
      let before: { at: string; id: string } | null = null;
      for (;;) {
        const page: RuntimeLogLine[] = await logs.read(id, { before, limit: 4 });
        seen.push(...page);
        const last = page[page.length - 1];
        if (page.length < 4 || !last) break;
        before = { at: last.at, id: last.id };
      }
      expect(ids(seen)).toEqual(ids(all));
      expect(await logs.read(id, { limit: 0 })).toEqual([]);
      const first = all[0];
      if (!first) throw new Error("fixture");
      expect(ids(await logs.read(id, { before: { at: first.at, id: first.id }, limit: 2 }))).toEqual(
        ids(all.slice(1, 3)),
      );
    });

    test("since (inclusive) and until (exclusive), with paging inside the range", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      await logs.append(lines(id, 1, 30));
      const got = async (q: { since?: string; until?: string; limit?: number }) =>
        (await logs.read(id, { limit: 100, ...q })).map((l) => l.text);
      expect(await got({ since: iso(25) })).toEqual([
        "line 30",
        "line 29",
        "line 28",
        "line 27",
        "line 26",
        "line 25",
      ]);
      expect(await got({ until: iso(3) })).toEqual(["line 2", "line 1"]);
      expect(await got({ since: iso(10), until: iso(13) })).toEqual(["line 12", "line 11", "line 10"]);
      expect(await got({ since: iso(10), until: iso(10) })).toEqual([]);
      expect(await got({ since: iso(31) })).toEqual([]);
      const page = await logs.read(id, { since: iso(10), until: iso(20), limit: 3 });
      const last = page[2];
      if (!last) throw new Error("short page");
      const next = await logs.read(id, { since: iso(10), until: iso(20), before: last, limit: 100 });
      expect([...page, ...next].map((l) => l.text)).toEqual(
        Array.from({ length: 10 }, (_, i) => `line ${19 - i}`),
      );
    });

    test("by function, including paths with brackets, quotes, spaces and non-ASCII", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const odd = ["/api/[id]", '/api/it\'s \\ "quoted"', "/api/ünï cödé 日本", "/api/x' OR '1'='1"];
      const written = odd.map((fn, i) => runtimeLine(id, i + 1, { function: fn }));
      await logs.append([...written, ...lines(id, 10, 14)]);
      for (const [i, fn] of odd.entries())
        expect(await logs.read(id, { function: fn, limit: 10 })).toEqual([written[i] as RuntimeLogLine]);
      expect((await logs.read(id, { function: "/api/even", limit: 10 })).map((l) => l.text)).toEqual([
        "line 14",
        "line 12",
        "line 10",
      ]);
      expect(await logs.read(id, { function: "/api/none", limit: 10 })).toEqual([]);
      expect(await logs.read(id, { function: "", limit: 10 })).toEqual([]);
    });

    test("deployments are isolated; remove takes every line of the given ones; unknown ids and [] are fine", async () => {
      const logs = await open();
      const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      await logs.append([...lines(a, 1, 3), ...lines(b, 1, 3), ...lines(c, 1, 3)]);
      expect(await logs.read(b, { limit: 10 })).toEqual(newestFirst(lines(b, 1, 3)));
      await logs.remove([a, b, crypto.randomUUID()]);
      await logs.remove([]);
      expect(await logs.read(a, { limit: 10 })).toEqual([]);
      expect(await logs.read(b, { limit: 10 })).toEqual([]);
      expect(await logs.read(c, { limit: 10 })).toEqual(newestFirst(lines(c, 1, 3)));
      // A removed deployment's lines can be written again (no tombstone).
      await logs.append([runtimeLine(a, 9)]);
      expect(await logs.read(a, { limit: 10 })).toEqual([runtimeLine(a, 9)]);
    });

    test("unicode, ANSI escapes, markup and SQL-looking text round-trip byte for byte; long lines whole", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const texts = [...AWKWARD_TEXTS, "x".repeat(5 * 1024), "é😀".repeat(900)];
      const written = texts.map((text, i) => runtimeLine(id, i + 1, { text }));
      await logs.append(written);
      const read = await logs.read(id, { limit: 100 });
      expect(read).toEqual(newestFirst(written));
      const hex = (ls: RuntimeLogLine[]) => ls.map((l) => Buffer.from(l.text, "utf8").toString("hex"));
      expect(hex(read)).toEqual(hex(newestFirst(written)));
    });

    test("one append of a flush: 500 lines of 5 deployments, interleaved", async () => {
      const logs = await open();
      const deployments = Array.from({ length: 5 }, () => crypto.randomUUID());
      const batch = deployments
        .flatMap((id) => lines(id, 1, 100))
        .sort((x, y) => ((Number(x.id.slice(1)) * 7) % 13) - ((Number(y.id.slice(1)) * 7) % 13));
      await logs.append(batch);
      for (const id of deployments)
        expect(await logs.read(id, { limit: 1000 })).toEqual(newestFirst(lines(id, 1, 100)));
    });

    test("concurrent appends all land", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const all = lines(id, 1, 40);
      await Promise.all(all.map((l) => logs.append([l])));
      expect(await logs.read(id, { limit: 100 })).toEqual(newestFirst(all));
    });

    test("purgeOlderThan removes lines past the retention and keeps younger ones", async () => {
      const logs = await open();
      const id = crypto.randomUUID();
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
      const old = runtimeLine(id, 1, { at: daysAgo(10) });
      const kept = [runtimeLine(id, 2, { at: daysAgo(1) }), runtimeLine(id, 3, { at: daysAgo(0) })];
      await logs.append([old, ...kept]);
      await logs.purgeOlderThan(3);
      expect(await logs.read(id, { limit: 10 })).toEqual(newestFirst(kept));
      await expect(logs.purgeOlderThan(0)).rejects.toThrow(RangeError);
    });
  });
}

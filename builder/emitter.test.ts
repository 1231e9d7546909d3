// The builder's log emitter: numbering, partial lines, length and volume caps, secret masking.

import { expect, test } from "bun:test";
import { type BuildEvent, DEFAULT_LOG_BYTES, MAX_LINE_CHARS, parseBuildEvent } from "../schema/events.ts";
import { createEmitter, masker } from "./emitter.ts";

const ID = "0b0e6f5e-8a43-4c39-9d0b-2f4b6b0d1a10";

function collect(secrets: string[] = [], maxBytes?: number) {
  const events: BuildEvent[] = [];
  const out = createEmitter(ID, (e) => events.push(e), secrets, maxBytes);
  const lines = () => events.flatMap((e) => (e.type === "log" ? [e] : []));
  return { out, events, lines };
}

test("chunks become numbered lines; partial lines wait for their end or flush", () => {
  const { out, lines } = collect();
  out.chunk("stdout", "one\ntw");
  out.chunk("stdout", "o\nthree");
  out.chunk("stderr", "err\n");
  expect(lines().map((l) => [l.seq, l.stream, l.text])).toEqual([
    [1, "stdout", "one"],
    [2, "stdout", "two"],
    [3, "stderr", "err"],
  ]);
  out.flush();
  expect(lines().at(-1)?.text).toBe("three");
  expect(out.lastSeq).toBe(4);
});

test("ANSI colours are kept; carriage returns at line ends are dropped", () => {
  const { out, lines } = collect();
  out.chunk("stdout", "\u001b[31mred\u001b[0m\r\n");
  expect(lines()[0]?.text).toBe("\u001b[31mred\u001b[0m");
});

test("long lines are cut with a visible note and still pass the event schema", () => {
  const { out, events, lines } = collect();
  out.log("stdout", "x".repeat(MAX_LINE_CHARS * 3));
  expect(lines()[0]?.text.endsWith("[line truncated]")).toBe(true);
  expect(lines()[0]?.text.length).toBeLessThan(MAX_LINE_CHARS + 64);
  for (const e of events) expect(parseBuildEvent(e).ok).toBe(true);
});

test("the log stops after its byte cap, once, with a note; every event stays valid", () => {
  // 10 bytes a line ("line 1234" and its newline): 100 lines fit in 1,000 bytes, the 101st does not.
  const { out, lines } = collect([], 1000);
  for (let i = 1000; i < 1300; i++) out.log("stdout", `line ${i}`);
  const all = lines();
  expect(all.length).toBe(101);
  expect(all.at(-2)?.text).toBe("line 1099");
  expect(all.at(-1)).toMatchObject({ seq: 101, stream: "system" });
  expect(all.at(-1)?.text).toBe("[log truncated: more than 1000 B; the build goes on]");
  for (const event of all) expect(parseBuildEvent(event).ok).toBe(true);
});

test("a million short lines fit the default cap, numbered past the old 20,000-line limit", () => {
  const { out, events } = collect();
  for (let i = 0; i < 1_000_000; i++) out.log("stdout", "x");
  expect(events.length).toBe(1_000_000);
  expect(events.at(-1)).toMatchObject({ seq: 1_000_000, text: "x" });
  expect(parseBuildEvent(events.at(-1)).ok).toBe(true);
  expect(2 * 1_000_000).toBeLessThan(DEFAULT_LOG_BYTES);
});

test("secret values are masked in lines and in status reasons, longest first", () => {
  const { out, events, lines } = collect(["hunter22", "hunter22-extended", "abc"]);
  out.log("stdout", "token=hunter22-extended and hunter22 and abc");
  out.status("FAIL", { reason: "could not log in with hunter22" });
  expect(lines()[0]?.text).toBe("token=******** and ******** and abc");
  const status = events.find((e) => e.type === "status");
  expect(status?.type === "status" && status.reason).toBe("could not log in with ********");
  expect(masker([])("unchanged")).toBe("unchanged");
});

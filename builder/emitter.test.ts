// The builder's log emitter: numbering, partial lines, length and volume caps, secret masking.

import { expect, test } from "bun:test";
import { type BuildEvent, MAX_LINE_CHARS, MAX_LOG_LINES, parseBuildEvent } from "../schema/events.ts";
import { createEmitter, masker } from "./emitter.ts";

const ID = "0b0e6f5e-8a43-4c39-9d0b-2f4b6b0d1a10";

function collect(secrets: string[] = []) {
  const events: BuildEvent[] = [];
  const out = createEmitter(ID, (e) => events.push(e), secrets);
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

test("the log stops after the volume cap, once, with a note", () => {
  const { out, lines } = collect();
  for (let i = 0; i < MAX_LOG_LINES + 50; i++) out.log("stdout", `line ${i}`);
  const all = lines();
  expect(all.length).toBe(MAX_LOG_LINES + 1);
  expect(all.at(-1)?.text).toContain("log truncated");
  expect(all.at(-1)?.stream).toBe("system");
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

// The bench's jitdump reader against a file Bun itself writes: a function made hot enough to be compiled is
// found by name, at its address, and a perf report line at that address is counted under its name.

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../src/testing/deps.ts";
import { jitName, jitShares, readJitDumps } from "./jitdump.ts";

test("reads the functions Bun compiled, and names perf's [JIT] addresses with them", async () => {
  const dir = tempDir("minivercel-jitdump-");
  const script = join(dir, "hot.js");
  writeFileSync(
    script,
    "function hotLoopForJitdump(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }\n" +
      "let total = 0; for (let k = 0; k < 2000; k++) total += hotLoopForJitdump(10000); console.log(total);\n",
  );
  const child = Bun.spawn([process.execPath, script], {
    env: { ...process.env, BUN_JSC_useJITDump: "1", BUN_JSC_jitDumpDirectory: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await child.exited).toBe(0);
  const dumps = readJitDumps(dir);
  const codes = dumps.get(child.pid) ?? [];
  const hot = codes.filter((code) => code.name.includes("hotLoopForJitdump"));
  expect(hot.length).toBeGreaterThan(0);
  const last = hot[hot.length - 1];
  if (!last) throw new Error("no code for the hot function");
  expect(last.end).toBeGreaterThan(last.start);
  const inside = last.start + Math.floor((last.end - last.start) / 2);
  expect(jitName(codes, inside)).toContain("hotLoopForJitdump");
  expect(jitName(codes, 1)).toBeNull();
  const lines = [
    `     2.50%  [JIT] tid ${child.pid}    [.] 0x${inside.toString(16).padStart(16, "0")}`,
    `     1.00%  [JIT] tid ${child.pid}    [.] 0x0000000000000001`,
    "     9.00%  [kernel.kallsyms]  [k] tcp_ack",
  ];
  expect(jitShares(lines, dumps)).toEqual([
    ["hotLoopForJitdump", 2.5],
    ["(unknown)", 1],
  ]);
  // No dumps (perf on a server that was not started with the options): nothing, no error.
  expect(readJitDumps(join(dir, "missing")).size).toBe(0);
});

// The kill-victim helpers: a process with a builder child is told from one with any other child.

import { afterEach, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { childrenOf, descendantsOf, runsBuilder, runsFunctions } from "./cluster.ts";

const started: Subprocess[] = [];
afterEach(async () => {
  for (const proc of started.splice(0)) {
    for (const { pid } of descendantsOf(proc.pid)) process.kill(pid, "SIGKILL");
    proc.kill("SIGKILL");
    await proc.exited;
  }
});

/** A shell whose one child runs `argv`; resolves once the child exists. */
async function parentOf(argv: string[]): Promise<number> {
  const quoted = argv.map((arg) => `'${arg}'`).join(" ");
  const proc = Bun.spawn(["/bin/sh", "-c", `${quoted} & wait`], { stdout: "ignore" });
  started.push(proc);
  const end = Date.now() + 5_000;
  while (childrenOf(proc.pid).length === 0 && Date.now() < end) await Bun.sleep(20);
  return proc.pid;
}

test("a process with a builder child runs a build; one with another child does not", async () => {
  const builder = await parentOf(["/bin/sh", "-c", "sleep 30", "builder"]);
  const capture = await parentOf(["/bin/sh", "-c", "sleep 30", "chromium"]);
  expect(childrenOf(builder)[0]?.argv).toEqual(["/bin/sh", "-c", "sleep 30", "builder"]);
  expect(runsBuilder(builder)).toBe(true);
  expect(runsBuilder(capture)).toBe(false);
  expect(runsBuilder(undefined)).toBe(false);
});

test("a function instance is found anywhere under the process", async () => {
  const node = await parentOf(["/bin/sh", "-c", "sleep 30 & wait", "sh", "/opt/minivercel/launcher.ts"]);
  const end = Date.now() + 5_000;
  while (descendantsOf(node).length < 2 && Date.now() < end) await Bun.sleep(20);
  expect(descendantsOf(node).map((p) => p.argv[0])).toEqual(["/bin/sh", "sleep"]);
  expect(runsFunctions(node)).toBe(true);
  expect(runsFunctions(await parentOf(["/bin/sh", "-c", "sleep 30", "app-launcher.ts"]))).toBe(false);
});

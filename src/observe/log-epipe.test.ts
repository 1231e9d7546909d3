// A server whose log reader went away (stdout closed: EPIPE) keeps serving, and still stops cleanly.

import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { lifecycleEnv } from "../testing/lifecycle.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

test("closing the server's stdout and stderr loses log lines, never the server", async () => {
  const env = lifecycleEnv({ API_ACCESS_LOG: "1", LOG_FORMAT: "json", MINIVERCEL_ROLE: "api" });
  const proc = Bun.spawn([process.execPath, MAIN, "serve"], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = proc.stdout.getReader();
    let text = "";
    const decoder = new TextDecoder();
    while (!/dashboard and API: http:\/\/\S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited early:\n${text}`);
      text += decoder.decode(value, { stream: true });
    }
    const api = /dashboard and API: (http:\/\/\S+)/.exec(text)?.[1] ?? "";
    // Whoever read the logs is gone: every further line is written into closed pipes.
    await reader.cancel();
    await proc.stderr.cancel();
    for (let i = 0; i < 50; i++) expect((await fetch(`${api}/api/health`)).status).toBe(200);
    expect(proc.exitCode).toBeNull();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}, 60_000);

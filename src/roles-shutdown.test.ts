// Graceful lifecycle with real processes and signals: SIGTERM drains requests and ends log streams, a second
// signal exits at once, and serve refuses a database or data directory a newer minivercel wrote.

import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { VERSION } from "./config/version.ts";
import { call, cli, killLeftovers, lifecycleEnv, startServe, tokenFor } from "./testing/lifecycle.ts";
import { fixtureRepo } from "./testing/repos.ts";

afterAll(killLeftovers);

const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** A file upload over a raw socket: headers and the first half now, the rest when `finish` is called. */
function slowUpload(base: string, token: string, body: Uint8Array) {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname === "localhost" ? "127.0.0.1" : hostname);
  let response = "";
  socket.on("data", (chunk) => {
    response += chunk.toString("latin1");
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const half = body.length >> 1;
  socket.write(
    `PUT /api/files/${sha256(body)} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(body.subarray(0, half));
  return {
    async finish(): Promise<string> {
      socket.write(body.subarray(half));
      await closed;
      return response;
    },
    abort: () => socket.destroy(),
  };
}

type Reader = ReadableStreamDefaultReader<Uint8Array>;

/** Reads an SSE stream into text until `until` says so, it ends, or `ms` pass (then it is still open). */
async function readSse(reader: Reader, until: (text: string) => boolean, ms: number) {
  const decoder = new TextDecoder();
  let text = "";
  const end = Date.now() + ms;
  for (;;) {
    const next = await Promise.race([
      reader.read(),
      Bun.sleep(Math.max(0, end - Date.now())).then(() => null),
    ]);
    if (next === null) return { text, ended: false };
    if (next.done) return { text, ended: true };
    text += decoder.decode(next.value, { stream: true });
    if (until(text)) return { text, ended: false };
  }
}

test("SIGTERM: a slow upload in flight completes, open log streams get `restarting` and end, exit 0", async () => {
  // No worker: the deployment stays QUEUED, so its log stream stays open until the server goes.
  const env = lifecycleEnv({ MINIVERCEL_ROLE: "api" });
  const token = await tokenFor(env);
  const server = await startServe(env);
  const repo = fixtureRepo({ "index.html": "<p>hi</p>" });
  const project = await call(server.api, token, "POST", "/api/projects", { name: "Drain", gitUrl: repo.url });
  const deployment = await call(server.api, token, "POST", "/api/deploy", { projectId: project.id });

  const res = await fetch(`${server.api}/api/deployments/${deployment.id}/logs/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const stream = res.body?.getReader();
  if (!stream) throw new Error("the log stream has no body");
  const opened = await readSse(stream, (t) => t.includes("event: status"), 10_000);
  expect(opened.text).toContain('"status":"QUEUED"');

  const body = crypto.getRandomValues(new Uint8Array(256 * 1024));
  const upload = slowUpload(server.api, token, body);
  await Bun.sleep(200); // the request is in the server, waiting for the rest of its body

  server.proc.kill("SIGTERM");
  await server.waitFor(/SIGTERM: shutting down/);
  // The log stream hears why it ends, and ends.
  const rest = await readSse(stream, () => false, 10_000);
  expect(rest.ended).toBe(true);
  expect(rest.text).toContain("event: restarting");
  expect(rest.text).toMatch(/retry: \d+/);
  // The listener is gone at once: a new connection is refused while the upload still runs.
  expect(
    await fetch(`${server.api}/api/health`).then(
      () => "accepted",
      () => "refused",
    ),
  ).toBe("refused");
  expect(server.proc.exitCode).toBeNull();

  const response = await upload.finish();
  expect(response).toStartWith("HTTP/1.1 204");
  expect(await server.proc.exited).toBe(0);
  expect(server.output()).toMatch(/ended 1 live log stream.*\n(.*\n)*.*finishing \d+ in-flight request/);
  expect(server.output()).toContain("stopped");

  // The upload really was stored: the next server has the file.
  const again = await startServe(env);
  const missing = await call(again.api, token, "POST", "/api/files/missing", { hashes: [sha256(body)] });
  expect(missing.missing).toEqual([]);
  again.proc.kill("SIGTERM");
  expect(await again.proc.exited).toBe(0);
}, 60_000);

test("a second SIGTERM exits at once, non-zero, without waiting for the drain", async () => {
  const env = lifecycleEnv({ MINIVERCEL_ROLE: "api", SHUTDOWN_TIMEOUT_SECONDS: "600" });
  const token = await tokenFor(env);
  const server = await startServe(env);
  // An upload that never completes would hold the drain for the whole timeout.
  const upload = slowUpload(server.api, token, new Uint8Array(1024 * 1024));
  await Bun.sleep(200);
  server.proc.kill("SIGTERM");
  await server.waitFor(/SIGTERM: shutting down/);
  await Bun.sleep(300);
  expect(server.proc.exitCode).toBeNull();
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(1);
  expect(server.output()).toMatch(/second SIGTERM: exiting now/);
  upload.abort();
}, 60_000);

test("SHUTDOWN_TIMEOUT_SECONDS is validated and named when wrong", async () => {
  const run = await cli(lifecycleEnv({ SHUTDOWN_TIMEOUT_SECONDS: "soon" }), ["serve"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^minivercel: configuration error: SHUTDOWN_TIMEOUT_SECONDS/);
});

test("serve refuses a database whose schema a newer minivercel migrated: one line, exit 1", async () => {
  const env = lifecycleEnv();
  expect((await cli(env, ["migrate"])).code).toBe(0);
  const db = new Database(join(env.MINIVERCEL_DATA ?? "", "minivercel.db"));
  db.run("INSERT INTO schema_migrations (version, applied_at) VALUES (999, '2030-01-01T00:00:00Z')");
  db.close();
  for (const command of ["serve", "migrate"]) {
    const run = await cli(env, [command]);
    expect({ command, code: run.code, stdout: run.stdout }).toEqual({ command, code: 1, stdout: "" });
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^minivercel: database schema version 999 is newer than this binary, minivercel ${VERSION}`),
    );
  }
}, 30_000);

test("serve refuses a data directory a newer minivercel wrote, naming both versions", async () => {
  const env = lifecycleEnv();
  const data = env.MINIVERCEL_DATA ?? "";
  // A first start marks the directory with this binary's format.
  const first = await startServe(env);
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);
  const marker = JSON.parse(await Bun.file(join(data, "minivercel.json")).text());
  expect(marker).toEqual({ format: 1, version: VERSION });

  writeFileSync(join(data, "minivercel.json"), JSON.stringify({ format: 2, version: "99.0.0" }));
  for (const command of ["serve", "migrate"]) {
    const run = await cli(env, [command]);
    expect({ command, code: run.code, stdout: run.stdout }).toEqual({ command, code: 1, stdout: "" });
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `minivercel: data directory ${data} has data format 2 (last used by minivercel 99.0.0); this binary, ` +
        `minivercel ${VERSION}, supports data format 1 at most: upgrade minivercel`,
    );
  }
}, 30_000);

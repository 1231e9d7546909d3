// Limits: request body caps on the API and the dashboard: declared sizes, chunked bodies, MAX_UPLOAD_MB; through
// the handlers, and over a real socket where the chunked transfer itself is the point.

import { afterEach, describe, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import { startRoles } from "../roles.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createApi } from "./app.ts";

const MB = 1024 * 1024;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function deps(env: Record<string, string> = {}): Promise<Deps> {
  const d = await testDeps(env);
  cleanup.push(() => d.close());
  return d;
}

/** A body of `size` bytes sent in 64 KB chunks, counting how much of it was pulled by the server. */
function chunked(size: number) {
  const state = { pulled: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(97);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= size) return controller.close();
      const next = chunk.subarray(0, Math.min(chunk.byteLength, size - state.pulled));
      state.pulled += next.byteLength;
      controller.enqueue(next);
    },
  });
  return { stream, state };
}

const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

describe("API, through the handler", () => {
  test("MAX_UPLOAD_MB caps a file upload, declared or chunked; a chunked one is not read past the cap", async () => {
    const d = await deps({ MAX_UPLOAD_MB: "1" });
    const { token } = await testUser(d);
    const api = createApi(d);
    const put = (hash: string, body: BodyInit, headers: Record<string, string> = {}) =>
      api.handle(
        new Request(`http://localhost/api/files/${hash}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, ...headers },
          body,
        }),
      );
    const declared = await put("a".repeat(64), new Uint8Array(8), { "content-length": String(2 * MB) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({
      error: { code: "payload_too_large", message: "request body is too large (at most 1 MB here)" },
    });

    const big = chunked(8 * MB);
    const streamed = await put("b".repeat(64), big.stream, { "transfer-encoding": "chunked" });
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({
      error: { code: "payload_too_large", message: "a file may be at most 1 MB" },
    });
    // Refused once past 1 MB (a chunk or two of read-ahead), not after reading all 8.
    expect(big.state.pulled).toBeLessThan(2 * MB);

    // Within the cap, chunked is fine.
    const data = new Uint8Array(MB).fill(7);
    const ok = await put(sha256(data), new Blob([data]).stream(), { "transfer-encoding": "chunked" });
    expect(ok.status).toBe(204);
    expect(await d.artifacts.missing([sha256(data)])).toEqual([]);
  });

  test("a JSON route refuses a chunked body (411): its size could only be known by reading it all", async () => {
    const d = await deps();
    const { token } = await testUser(d);
    const res = await createApi(d).handle(
      new Request("http://localhost/api/projects", {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        },
        body: chunked(2 * MB).stream,
      }),
    );
    expect(res.status).toBe(411);
    expect(await res.json()).toEqual({
      error: {
        code: "bad_request",
        message: "send the body with a Content-Length header (chunked bodies are refused here)",
      },
    });
  });

  test("MAX_UPLOAD_MB must be 1 to 100", async () => {
    await expect(testDeps({ MAX_UPLOAD_MB: "101" })).rejects.toThrow(
      "MAX_UPLOAD_MB: must be between 1 and 100",
    );
    await expect(testDeps({ MAX_UPLOAD_MB: "0" })).rejects.toThrow("MAX_UPLOAD_MB");
  });
});

describe("dashboard, through the handler", () => {
  test("a form over 1 MB gets a 413 page; a chunked one a 400 page; nothing is changed", async () => {
    const d = await deps();
    const v = new Visitor(createDashboard(d));
    const user = await signIn(d.store, v);
    const form = { _csrf: v.csrf, name: "x".repeat(MB + 10), gitUrl: "https://example.com/a.git" };
    // As a browser sends it: with its length (a Request made here has none of its own).
    const length = String(new URLSearchParams(form).toString().length);
    const big = await v.send("POST", "/projects", { form, headers: { "content-length": length } });
    expect(big.status).toBe(413);
    expect(big.text).toContain("The submitted form is too large (at most 1 MB).");
    const streamed = await v.send("POST", "/projects", {
      headers: { "transfer-encoding": "chunked", "content-type": "application/x-www-form-urlencoded" },
    });
    expect(streamed.status).toBe(400);
    expect(streamed.text).toContain("Content-Length");
    expect(await d.store.projects.count(user.id)).toBe(0);
  });
});

describe("over a real socket", () => {
  test("chunked uploads, chunked JSON and large forms are refused by the running server", async () => {
    const d = await deps({ MINIVERCEL_ROLE: "api", PORT: "0", LISTEN_HOST: "127.0.0.1", MAX_UPLOAD_MB: "1" });
    const running = await startRoles(d);
    // The refused chunked upload's client may still be sending at the end: cut it rather than wait for it.
    cleanup.push(() => running.stop(1000));
    const base = running.urls.api?.replace("localhost", "127.0.0.1") ?? "";
    const { token } = await testUser(d);
    const auth = { authorization: `Bearer ${token}` };

    const upload = await fetch(`${base}/api/files/${"c".repeat(64)}`, {
      method: "PUT",
      headers: auth,
      body: chunked(4 * MB).stream,
      duplex: "half",
    } as RequestInit);
    expect(upload.status).toBe(413);
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");

    const json = await fetch(`${base}/api/projects`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: chunked(1024).stream,
      duplex: "half",
    } as RequestInit);
    expect(json.status).toBe(411);

    const form = await fetch(`${base}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=${"x".repeat(2 * MB)}`,
    });
    expect(form.status).toBe(413);
    expect(await form.text()).toContain("too large");
  });
});

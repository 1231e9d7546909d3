// Limits, the CLI's side: a 429 from the server is a retryable failure that carries the server's Retry-After.

import { expect, test } from "bun:test";
import { failureOf } from "./http.ts";

const limited = (headers: Record<string, string>) =>
  new Response(
    JSON.stringify({ error: { code: "rate_limited", message: "too many requests for this account" } }),
    {
      status: 429,
      headers: { "content-type": "application/json", ...headers },
    },
  );

test("429 is retryable (exit 1, not a usage error) and keeps Retry-After", async () => {
  const error = await failureOf(limited({ "retry-after": "7" }), "http://localhost:9000");
  expect(error.message).toBe("http://localhost:9000: too many requests for this account");
  expect(error.exitCode).toBe(1);
  expect(error.retryable).toBe(true);
  expect(error.retryAfterMs).toBe(7000);
  // A missing or odd header leaves the waiting to the caller's own backoff.
  expect((await failureOf(limited({}), "u")).retryAfterMs).toBeNull();
  expect((await failureOf(limited({ "retry-after": "soon" }), "u")).retryAfterMs).toBeNull();
});

// Test support: a real Deps on the embedded defaults in a temp dir, plus small request helpers.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApi } from "../api/app.ts";
import { type Env, loadConfig } from "../config/config.ts";
import { type Deps, openDeps } from "../deps.ts";
import { createApiToken, createUser } from "../identity/accounts.ts";

export function tempDir(prefix = "minivercel-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function testDeps(env: Env = {}): Promise<Deps> {
  // Tests fetch deployment URLs anonymously; those about protection turn it on themselves.
  return openDeps(
    loadConfig({
      MINIVERCEL_DATA: tempDir(),
      MINIVERCEL_ALLOW_LOCAL_GIT: "1",
      DEPLOYMENT_PROTECTION_DEFAULT: "none",
      ...env,
    }),
  );
}

/** A user with an API token, ready to call the API as them. */
export async function testUser(deps: Deps, email = `u-${crypto.randomUUID().slice(0, 8)}@example.com`) {
  const user = await createUser(deps.store, email, "correct horse battery");
  const { token } = await createApiToken(deps.store, user.id, "test");
  return { user, token };
}

export type Client = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{
  status: number;
  body: unknown;
  headers: Headers;
}>;

/** Calls the API through its handler, as `token` when given. */
export function apiClient(deps: Deps, token: string | null): Client {
  const api = createApi(deps);
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    };
    const response = await api.handle(new Request(`http://localhost${path}`, init));
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text so the assertion shows it
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
}

/** Narrows an unknown JSON body to a record for assertions. */
export function obj(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`expected a JSON object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

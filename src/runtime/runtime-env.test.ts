// The function runtime injects the project's variables of the deployment's target: the same function deployed as
// production and as a preview sees each target's own value of one key, and VERCEL_ENV names the target.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { setEnvVar } from "../deploy/env.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { createRuntime, type FunctionRuntime, type FunctionTarget } from "./runtime.ts";

let deps: Deps;
let runtime: FunctionRuntime;
let projectId: string;

beforeAll(async () => {
  deps = await testDeps({ FUNCTION_IDLE_SECONDS: "2", FUNCTION_START_TIMEOUT_SECONDS: "10" });
  runtime = createRuntime(deps);
  const { user } = await testUser(deps);
  projectId = (await createProject(deps.store, deps.config, user.id, { name: "env-targets" })).id;
  const set = (key: string, value: string, targets: ("production" | "preview")[]) =>
    setEnvVar(deps.store, deps.sealer, user.id, projectId, key, value, targets);
  await set("DATABASE_URL", "postgres://production-db", ["production"]);
  await set("DATABASE_URL", "postgres://preview-db", ["preview"]);
  await set("ONLY_PRODUCTION", "yes", ["production"]);
  await set("SHARED", "both", ["production", "preview"]);
  // A variable may not pose as the platform's own.
  await set("VERCEL_ENV", "spoofed", ["production", "preview"]);
});
afterAll(async () => {
  await runtime.stop();
  await deps.close();
}, 30_000);

test("production and preview deployments of one function see their own target's variables", async () => {
  const fn = await storeFunction(deps.artifacts, {
    "index.mjs": `export function GET() {
      const { DATABASE_URL, ONLY_PRODUCTION, SHARED, VERCEL_ENV } = process.env;
      return Response.json({ DATABASE_URL, ONLY_PRODUCTION: ONLY_PRODUCTION ?? null, SHARED, VERCEL_ENV });
    }`,
  });
  const seen = async (environment: FunctionTarget["environment"]) => {
    const outcome = await runtime.invoke(
      {
        deploymentId: crypto.randomUUID(),
        projectId,
        environment,
        deploymentUrl: "http://site--abc.localhost:8001",
        path: "/api/env",
        fn,
      },
      {
        request: new Request("http://site.localhost/api/env"),
        path: "/api/env",
        search: "",
        host: "site.localhost:8001",
        proto: "http",
        clientIp: null,
        requestId: "req-env",
      },
    );
    if (outcome.kind === "failed") throw new Error(`the function failed: ${outcome.reason}`);
    return outcome.response.json();
  };
  expect(await seen("production")).toEqual({
    DATABASE_URL: "postgres://production-db",
    ONLY_PRODUCTION: "yes",
    SHARED: "both",
    VERCEL_ENV: "production",
  });
  expect(await seen("preview")).toEqual({
    DATABASE_URL: "postgres://preview-db",
    ONLY_PRODUCTION: null,
    SHARED: "both",
    VERCEL_ENV: "preview",
  });
}, 30_000);

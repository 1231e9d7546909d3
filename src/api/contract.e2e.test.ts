// The API's contract: the OpenAPI document validates as OpenAPI 3.1 (openapi-spec-validator), and Schemathesis,
// run against a real listening API, finds no status, content type or body the document does not declare.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { freePort, testService } from "../testing/services.ts";

let deps: Deps;
let roles: Running;
let base: string;
let token: string;
/** The bin folder of the venv scripts/services.sh schemathesis installs (the first time: half a minute). */
let tools: string;
const work = tempDir("minivercel-contract-");

beforeAll(() => {
  tools = testService("schemathesis");
}, 300_000);

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api",
    PORT: String(freePort()),
    // Budgets no test run reaches: Schemathesis should test what routes do, not the rate limiter (429 is
    // documented on every limited route, and rate-limit.test.ts tests it).
    RATE_LIMIT_IP_PER_MINUTE: "1000000",
    RATE_LIMIT_USER_PER_MINUTE: "1000000",
    RATE_LIMIT_USER_WRITES_PER_MINUTE: "1000000",
  });
  roles = await startRoles(deps);
  base = roles.urls.api ?? "";
  token = (await testUser(deps)).token;
});
afterAll(async () => {
  await roles.stop();
  await deps.close();
  rmSync(work, { recursive: true, force: true });
});

const tool = (name: string) => join(tools, name);

/** The API as the seeded user; a Blob body is sent as raw bytes, anything else as JSON. */
async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown> | null> {
  const raw = body instanceof Blob;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": raw ? "application/octet-stream" : "application/json" }),
    },
    ...(body !== undefined && { body: raw ? body : JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : obj(await response.json());
}

/** Runs a program to its end with a deadline; its exit code and output (stdout then stderr). */
async function run(argv: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(argv, { cwd: work, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, output: stdout + stderr };
}

describe("the OpenAPI document", () => {
  test("validates as OpenAPI 3.1 (openapi-spec-validator)", async () => {
    const file = join(work, "openapi.json");
    await Bun.write(file, await (await fetch(`${base}/api/openapi.json`)).text());
    const { code, output } = await run(
      [tool("openapi-spec-validator"), "--schema", "3.1", "--validation-errors", "all", file],
      60_000,
    );
    expect(output.trim()).toBe(`${file}: OK`);
    expect(code).toBe(0);
  });
});

interface Seeded {
  project: string;
  deployments: string[];
  /** Projects and tokens for the deleting routes to delete: never one the run depends on. */
  doomed: { projects: string[]; tokens: string[] };
}

/**
 * Real resources for the fuzzer to reach past 404: a project with a git URL, an env var and a webhook secret; a
 * READY deployment (uploaded files) and a QUEUED one (no worker runs here: it waits until a newer deploy supersedes
 * it); and some to delete.
 */
async function seed(): Promise<Seeded> {
  const page = new Blob(["<h1>contract</h1>"]);
  const hash = new Bun.CryptoHasher("sha256").update(await page.bytes()).digest("hex");
  const idOf = (record: Record<string, unknown> | null) => String(record?.id);
  const project = idOf(
    await call("POST", "/api/projects", { name: "Contract", gitUrl: "https://git.example.com/site.git" }),
  );
  await call("PUT", `/api/files/${hash}`, page);
  const uploaded = await call("POST", `/api/projects/${project}/deployments`, {
    files: { "/index.html": { hash, size: page.size } },
    target: "production",
  });
  const ready = idOf(obj(uploaded?.deployment));
  const queued = idOf(await call("POST", "/api/deploy", { projectId: project }));
  await call("PUT", `/api/projects/${project}/env/API_KEY`, { value: "secret" });
  await call("GET", `/api/projects/${project}/webhook`);
  const doomed = { projects: [] as string[], tokens: [] as string[] };
  for (const name of ["Doomed 1", "Doomed 2"]) {
    doomed.projects.push(idOf(await call("POST", "/api/projects", { name })));
    doomed.tokens.push(idOf(obj((await call("POST", "/api/tokens", { name }))?.record)));
  }
  return { project, deployments: [ready, queued], doomed };
}

/**
 * Schemathesis's configuration: the seeded ids offered for most requests' ids. The deleting routes get only the
 * doomed ones (or random ids), with no ids taken from other responses and no stateful runs: deleting the seeded
 * project would leave the rest nothing to reach, revoking the run's own token would leave it nothing but 401.
 */
function configOf(ids: Seeded): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
  const deleting = (path: string, dictionary: string) => `
[[operations]]
include-path = "${path}"
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "${dictionary}", probability = 0.5 } }
phases.fuzzing.extra-data-sources.responses = false
phases.stateful.enabled = false
`;
  return `
[dictionaries.projects]
values = ${list([ids.project])}

[dictionaries.deployments]
values = ${list(ids.deployments)}

[dictionaries.doomedProjects]
values = ${list(ids.doomed.projects)}

[dictionaries.doomedTokens]
values = ${list(ids.doomed.tokens)}

[dictionaries.providers]
values = ["github", "gitlab", "gitea"]

[[operations]]
include-path-regex = '^/api/projects/\\{id\\}/'
parameters = { "path.id" = { dictionary = "projects", probability = 0.8 } }

[[operations]]
include-path = "/api/projects/{id}"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "projects", probability = 0.8 } }

[[operations]]
include-path-regex = '^/api/deployments/\\{id\\}'
parameters = { "path.id" = { dictionary = "deployments", probability = 0.8 } }

[[operations]]
include-path = "/api/deploy"
parameters = { "body.projectId" = { dictionary = "projects", probability = 0.8 } }

[[operations]]
include-path = "/api/hooks/{projectId}/{provider}"
parameters = { "path.projectId" = { dictionary = "projects", probability = 0.8 }, "path.provider" = { dictionary = "providers", probability = 0.8 } }
${deleting("/api/projects/{id}", "doomedProjects")}${deleting("/api/tokens/{id}", "doomedTokens")}`;
}

describe("Schemathesis against a listening API", () => {
  test(
    "finds no server error, undocumented status, content type or response body",
    async () => {
      const config = join(work, "schemathesis.toml");
      await Bun.write(config, configOf(await seed()));
      const { code, output } = await run(
        [
          tool("st"),
          "--no-color",
          "--config-file",
          config,
          "run",
          `${base}/api/openapi.json`,
          "--header",
          `Authorization: Bearer ${token}`,
          // The contract's four, plus 405 with Allow for undocumented methods and the declared response headers.
          // Not allow_header_conformance: Elysia routes PUT /api/files/missing to PUT /api/files/:hash, so Allow
          // there says POST, PUT, while OpenAPI files the concrete path apart from the templated one.
          "--checks",
          [
            "not_a_server_error",
            "status_code_conformance",
            "content_type_conformance",
            "response_schema_conformance",
            "unsupported_method",
            "response_headers_conformance",
          ].join(","),
          "--max-examples",
          "10",
          "--seed",
          "1",
          // One worker: Hypothesis's source inspection is not thread-safe on Python 3.11 (runtime errors).
          "--workers",
          "1",
          // The log stream is tested too: Schemathesis checks each Server-Sent Event against the event schema. The
          // stream of a deployment still queued never ends; Schemathesis reads it this long.
          "--request-timeout",
          "3",
        ],
        280_000,
      );
      // The summary in the test's output either way; all of it when the run failed.
      const summary = output.slice(output.lastIndexOf("= SUMMARY ="));
      console.log(code === 0 ? summary : output);
      expect(code).toBe(0);
    },
    { timeout: 300_000 },
  );
});

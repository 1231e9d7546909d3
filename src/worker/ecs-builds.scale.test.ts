// Builds on ECS end to end, against moto's ECS API and a shared Postgres: two workers racing over the queue start
// exactly one builder task per deployment; tasks that die (out of memory, a non-zero exit, never started) end
// their deployments FAIL with the reason in the log; a project deployed by `git push` to the platform's own
// remote builds in a task that fetches the repository over HTTP with its deployment's token.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { parseJob } from "../../builder/job.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { type Running, startRoles } from "../roles.ts";
import { obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { type TestDatabase, testDatabase } from "../testing/postgres.ts";
import { testService } from "../testing/services.ts";
import { startEventWorkers } from "./apply-events.ts";
import { startLauncher } from "./launcher.ts";
import { RUNNER_LOG_SEQ } from "./runner-ecs.ts";

const REGION = "us-east-1";
const cluster = `minivercel-e2e-${crypto.randomUUID()}`;
const family = `${cluster}-builder`;
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
let moto = "";
let admin: ECSClient;
let db: TestDatabase;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  moto = testService("moto").replace(/\/+$/, "");
  // Tasks stay RUNNING until StopTask, as real ones do until their container exits (see runner-ecs.scale.test.ts).
  const set = await fetch(`${moto}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({
      model_name: "ecs::task",
      transition: { progression: "manual", times: 1_000_000_000 },
    }),
  });
  if (!set.ok) throw new Error(`moto refused the ecs::task transition setting: HTTP ${set.status}`);
  admin = new ECSClient({ region: REGION, endpoint: moto });
  await admin.send(new CreateClusterCommand({ clusterName: cluster }));
  await admin.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "bridge",
      containerDefinitions: [
        { name: "builder", image: "minivercel-builder:test", essential: true, memory: 512 },
      ],
    }),
  );
  db = await testDatabase();
}, 120_000);

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await admin?.send(new DeleteClusterCommand({ cluster })).catch(() => undefined);
  await db?.drop();
  for (const [name, value] of [
    ["AWS_ACCESS_KEY_ID", savedEnv.id],
    ["AWS_SECRET_ACCESS_KEY", savedEnv.key],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const ecsEnv = (apiUrl: string) => ({
  ECS_CLUSTER_NAME: cluster,
  ECS_TASK_DEFINITION: family,
  ECS_ENDPOINT: moto,
  AWS_REGION: REGION,
  PUBLIC_API_URL: apiUrl,
});

/** Every task ECS has for a deployment (startedBy is its id), running or stopped. */
async function tasksOf(deploymentId: string): Promise<string[]> {
  const arns: string[] = [];
  for (const desiredStatus of ["RUNNING", "STOPPED"] as const) {
    const { taskArns = [] } = await admin.send(
      new ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus }),
    );
    arns.push(...taskArns);
  }
  return arns;
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const terminal = (d: Deployment | null) => d !== null && ["READY", "FAIL", "CANCELED"].includes(d.status);

test("two workers with ECS_COUNT=3 race over six deployments: one task each; dead tasks end FAIL with the reason logged", async () => {
  const data = tempDir();
  const workers: { deps: Deps; launcher: ReturnType<typeof startLauncher> }[] = [];
  for (let i = 0; i < 2; i++) {
    // One data folder (the log store is its sqlite file): either worker may apply a build's events.
    const deps = await testDeps({
      MINIVERCEL_DATA: data,
      DATABASE_URL: db.url,
      BUILD_CONCURRENCY: "1",
      ECS_COUNT: "3",
      MAX_CONCURRENT_BUILDS_PER_USER: "0",
      ...ecsEnv("https://minivercel.example.com"),
    });
    const events = await startEventWorkers(deps);
    const launcher = startLauncher({ ...deps, pollMs: 50 });
    cleanup.push(async () => {
      await launcher.stop();
      await events.stop();
      await deps.close();
    });
    workers.push({ deps, launcher });
  }
  const [first, second] = workers;
  if (!first || !second) throw new Error("unreachable");
  const { store } = first.deps;
  const { user } = await testUser(first.deps);
  // Six projects (one build per project at a time), queued at once: both workers wake and claim together.
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const project = await createProject(store, first.deps.config, user.id, {
      name: `ecs-race-${i}-${crypto.randomUUID().slice(0, 6)}`,
      // An address literal: no DNS look-up, and moto runs no builder that would clone it.
      gitUrl: "https://140.82.112.3/example/site.git",
    });
    ids.push((await queueDeployment(first.deps, user.id, { projectId: project.id })).id);
  }
  for (const w of workers) w.launcher.wake();

  // Every deployment building, each with exactly one task, three on each worker (ECS_COUNT, not BUILD_CONCURRENCY).
  const arns = await until("a task per deployment", async () => {
    const found: string[] = [];
    for (const id of ids) {
      const d = await store.deployments.find(id);
      const tasks = await tasksOf(id);
      if (d?.status !== "IN_PROGRESS" || tasks.length === 0) return null;
      found.push(...tasks);
    }
    return found;
  });
  await Bun.sleep(500);
  for (const id of ids) expect(await tasksOf(id)).toHaveLength(1);
  expect(arns).toHaveLength(6);
  expect([first.launcher.active().length, second.launcher.active().length]).toEqual([3, 3]);
  const everyStart = [...first.launcher.active(), ...second.launcher.active()].sort();
  expect(everyStart).toEqual([...ids].sort());

  // The tasks die as ECS reports them: out of memory, a builder crash, a task that never got to run.
  const reasons = [
    "OutOfMemoryError: Container killed due to memory usage",
    "Essential container in task exited",
    "TaskFailedToStart: CannotPullContainerError: pull image manifest has been retried 5 time(s)",
  ];
  for (const [i, id] of ids.entries()) {
    const [task = ""] = await tasksOf(id);
    await admin.send(new StopTaskCommand({ cluster, task, reason: reasons[i % 3] }));
  }
  for (const [i, id] of ids.entries()) {
    const d = await until(`deployment ${i} to end`, async () => {
      const found = await store.deployments.find(id);
      return terminal(found) ? found : null;
    });
    expect(d.status).toBe("FAIL");
    const reason = reasons[i % 3] ?? "";
    expect(d.statusReason).toContain("the build task stopped without reporting a result");
    expect(d.statusReason).toContain(reason);
    // Killed or never started: the reason closes the log. (A builder that exited by itself with 0 sent its own
    // result first; moto reports exit code 0 for every container, so that one is left to the builder.)
    const lines = await first.deps.logs.read(id, 0, 100);
    if (i % 3 === 1) expect(lines).toEqual([]);
    else
      expect(lines).toEqual([
        expect.objectContaining({ seq: RUNNER_LOG_SEQ, stream: "system", text: `Error: ${d.statusReason}` }),
      ]);
  }
  const { tasks = [] } = await admin.send(new DescribeTasksCommand({ cluster, tasks: arns }));
  expect(tasks.every((t) => t.lastStatus === "STOPPED")).toBe(true);
}, 120_000);

/** A free TCP port on 127.0.0.1 (the API's, which the builders' job must name before the server starts). */
function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const { port } = probe;
  probe.stop(true);
  if (port === undefined) throw new Error("no port");
  return port;
}

async function git(cwd: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(["git", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `${out}${err}` };
}

test("git push to the platform's remote builds on ECS: the task fetches over HTTP with its deployment's token", async () => {
  const port = freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const deps = await testDeps({
    PORT: String(port),
    PROXY_PORT: "0",
    MINIVERCEL_ROLE: "api,worker",
    MINIVERCEL_ALLOW_LOCAL_GIT: "0",
    ...ecsEnv(apiUrl),
  });
  const roles: Running = await startRoles(deps);
  cleanup.push(async () => {
    await roles.stop();
    await deps.close();
  });
  const { user, token } = await testUser(deps);
  const created = await fetch(`${apiUrl}/api/projects`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `ecs-push-${crypto.randomUUID().slice(0, 6)}`, outputDirectory: "public" }),
  });
  const project = obj(await created.json()) as { id: string; subDomain: string };

  const work = tempDir();
  await git(work, "init", "--quiet", "--initial-branch=main");
  writeFileSync(join(work, "package.json"), "{}");
  await Bun.write(join(work, "public", "index.html"), "<h1>pushed to ECS</h1>");
  await git(work, "add", "--all");
  await git(work, "commit", "--quiet", "-m", "site");
  const pushed = await git(
    work,
    "push",
    `http://x:${token}@127.0.0.1:${port}/git/${project.subDomain}.git`,
    "main",
  );
  expect(pushed.code).toBe(0);
  const d = await until("the pushed deployment", async () => {
    const page = await deps.store.deployments.list(user.id, project.id, { limit: 10, cursor: null });
    return page?.items[0] ?? null;
  });

  // The worker started a task; as ECS would, run the builder image's entrypoint with the task's environment only.
  const [arn = ""] = await until("the builder task", async () => {
    const tasks = await tasksOf(d.id);
    return tasks.length > 0 ? tasks : null;
  });
  const { tasks = [] } = await admin.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
  const environment = tasks[0]?.overrides?.containerOverrides?.[0]?.environment ?? [];
  expect(environment.map((e) => e.name)).toEqual(["MINIVERCEL_JOB"]);
  const job = parseJob(JSON.parse(Buffer.from(environment[0]?.value ?? "", "base64").toString("utf8")));
  expect(job.gitUrl).toBe(`${apiUrl}/git/${project.subDomain}.git`);
  expect(job.gitToken).toStartWith("gt_");
  // The task's own disk stands in for the image's /build.
  const disk = tempDir();
  const value = Buffer.from(JSON.stringify({ ...job, workDir: join(disk, d.id) })).toString("base64");
  const builder = Bun.spawn([process.execPath, join(import.meta.dir, "../main.ts"), "builder"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: disk, MINIVERCEL_JOB: value },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(builder.stdout).text(),
    new Response(builder.stderr).text(),
    builder.exited,
  ]);
  expect({ code, err: err.trim() }).toEqual({ code: 0, err: "" });
  expect(out).toBe("");
  // Its container exited by itself: ECS stops the task.
  await admin.send(new StopTaskCommand({ cluster, task: arn, reason: "Essential container in task exited" }));

  const done = await until("READY", async () => {
    const found = await deps.store.deployments.find(d.id);
    return terminal(found) ? found : null;
  });
  expect([done.status, done.statusReason]).toEqual(["READY", null]);
  const lines = (await deps.logs.read(d.id, 0, 1000)).map((l) => l.text);
  expect(lines).toContain(`Cloning ${apiUrl}/git/${project.subDomain}.git (${done.commitSha})`);
  expect(lines.join("\n")).not.toContain("gt_");
  expect(lines.some((l) => l.startsWith("Error:"))).toBe(false);
  const manifest = await deps.artifacts.getManifest(d.id);
  expect(Object.keys(manifest?.files ?? {})).toContain("/index.html");
  rmSync(disk, { recursive: true, force: true });
}, 180_000);

// The ECS runner against moto's ECS API (a fresh cluster per run); moto runs no containers, so tasks only
// stop when told to, by the runner (cancel, timeout) or by the test (as if the builder's container died).

import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { BuildJob } from "../../builder/job.ts";
import { parseJob } from "../../builder/job.ts";
import { type BuildEvent, parseBuildEvent } from "../../schema/events.ts";
import type { EcsConfig } from "../config/config.ts";
import { createBuildTokens } from "../identity/build-tokens.ts";
import { captureLog } from "../testing/metrics.ts";
import { testService } from "../testing/services.ts";
import { ecsRunner, RUNNER_LOG_SEQ } from "./runner-ecs.ts";

/** One ECS API call as it crossed the wire (moto does not echo everything back, e.g. the network settings). */
interface Call {
  action: string;
  request: Record<string, unknown>;
  response: unknown;
}

const REGION = "us-east-1";
const SECRET = "s3-secret-that-must-not-reach-the-task";
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
const tokens = createBuildTokens(crypto.getRandomValues(new Uint8Array(32)));
const cluster = `minivercel-test-${crypto.randomUUID()}`;
const family = `${cluster}-builder`;
const calls: Call[] = [];
/** Action -> how many of its next calls the recorder refuses itself (a client error, so the SDK does not retry). */
const faults = new Map<string, number>();
/** Tasks the recorder shows as PENDING until they stop (moto starts every task RUNNING). */
const pending = new Set<string>();
let moto = "";
let admin: ECSClient;
let relay: ReturnType<typeof Bun.serve> | null = null;

beforeAll(async () => {
  // The runner uses the SDK's default credential chain: fake keys in the environment (moto accepts any).
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  moto = testService("moto").replace(/\/+$/, "");
  // moto advances a task one state per DescribeTasks by default (RUNNING -> ... -> STOPPED after four looks).
  // Real tasks run until their container exits: make moto's stay RUNNING until StopTask. This is a per-model
  // setting of the shared server, idempotent, and only ECS tasks are affected.
  const set = await fetch(`${moto}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({
      model_name: "ecs::task",
      transition: { progression: "manual", times: 1_000_000_000 },
    }),
  });
  if (!set.ok) throw new Error(`moto refused the ecs::task transition setting: HTTP ${set.status}`);

  // The runner talks to moto through this recorder, so the tests see exactly what it sent.
  relay = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const action = request.headers.get("x-amz-target")?.split(".").pop() ?? "";
      const fault = faults.get(action) ?? 0;
      if (fault > 0) {
        faults.set(action, fault - 1);
        return new Response(JSON.stringify({ __type: "ClientException", message: "injected by the test" }), {
          status: 400,
          headers: { "content-type": "application/x-amz-json-1.1" },
        });
      }
      const body = await request.text();
      const headers = new Headers(request.headers);
      headers.delete("host");
      const { pathname, search } = new URL(request.url);
      const res = await fetch(`${moto}${pathname}${search}`, { method: request.method, headers, body });
      let text = await res.text();
      if (action === "DescribeTasks" && pending.size > 0) {
        const described = JSON.parse(text) as { tasks?: { taskArn?: string; lastStatus?: string }[] };
        for (const task of described.tasks ?? [])
          if (pending.has(task.taskArn ?? "") && task.lastStatus !== "STOPPED") task.lastStatus = "PENDING";
        text = JSON.stringify(described);
      }
      const parse = (s: string): unknown => {
        try {
          return JSON.parse(s);
        } catch {
          return s;
        }
      };
      const parsed = parse(body);
      calls.push({
        action,
        request: typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {},
        response: parse(text),
      });
      return new Response(text, {
        status: res.status,
        headers: { "content-type": res.headers.get("content-type") ?? "application/x-amz-json-1.1" },
      });
    },
  });

  admin = new ECSClient({ region: REGION, endpoint: moto });
  await admin.send(new CreateClusterCommand({ clusterName: cluster }));
  // networkMode bridge: moto 5.2.5 crashes on RunTask of an awsvpc task definition (so it is never told about
  // the network settings; the tests read those off the wire). It also wants a container memory to place tasks.
  await admin.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "bridge",
      containerDefinitions: [
        { name: "builder", image: "minivercel-builder:test", essential: true, memory: 512 },
      ],
    }),
  );
});

afterAll(async () => {
  relay?.stop(true);
  await admin
    ?.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `${family}:1` }))
    .catch(() => undefined);
  await admin?.send(new DeleteClusterCommand({ cluster })).catch(() => undefined);
  for (const [name, value] of [
    ["AWS_ACCESS_KEY_ID", savedEnv.id],
    ["AWS_SECRET_ACCESS_KEY", savedEnv.key],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function config(overrides: Partial<EcsConfig> = {}): EcsConfig {
  return {
    cluster,
    taskDefinition: family,
    subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    securityGroups: ["sg-0123456789abcdef0"],
    assignPublicIp: "DISABLED",
    launchType: "FARGATE",
    imageName: null,
    count: null,
    region: REGION,
    containerName: "builder",
    endpoint: null,
    apiUrl: "https://minivercel.example.com",
    ...overrides,
  };
}

function runner(ecs = config(), log = captureLog().log, startTimeoutMs?: number) {
  if (!relay) throw new Error("the recorder is not running");
  return ecsRunner({
    ecs,
    apiUrl: ecs.apiUrl,
    buildTokens: tokens,
    endpoint: `http://127.0.0.1:${relay.port}`,
    pollMs: 50,
    log,
    ...(startTimeoutMs !== undefined && { startTimeoutMs }),
  });
}

/** A worker's job, as the launcher makes it: including its own artifact store with secret keys. */
function job(env: Record<string, string> = { API_KEY: "project-variable" }): BuildJob {
  return {
    deploymentId: crypto.randomUUID(),
    gitUrl: "https://github.com/example/site.git",
    branch: "main",
    commitSha: null,
    rootDirectory: null,
    installCommand: null,
    buildCommand: "npm run build",
    outputDirectory: "dist",
    env,
    allowLocalGit: true,
    sandbox: "bwrap",
    limits: { memoryMb: 1536, pids: 512, timeoutMs: 600_000 },
    workDir: "/var/lib/minivercel/builds/x",
    cacheDir: "/var/lib/minivercel/cache/p",
    output: {
      kind: "local",
      artifacts: {
        kind: "s3",
        s3: {
          endpoint: null,
          region: REGION,
          bucket: "b",
          accessKeyId: "AKIAWORKER",
          secretAccessKey: SECRET,
          publicUrl: null,
        },
      },
    },
  };
}

/** Starts a build, collecting its events (each one checked against the event schema) and the runner's log. */
function start(j: BuildJob, ecs = config(), startTimeoutMs?: number) {
  const events: BuildEvent[] = [];
  const { log, lines: logged } = captureLog();
  const build = runner(ecs, log, startTimeoutMs).start(j, async (values) => {
    for (const value of values) {
      const parsed = parseBuildEvent(value);
      if (!parsed.ok) throw new Error(`runner published an invalid event: ${parsed.problem}`);
      events.push(parsed.event);
    }
  });
  return { build, events, logged };
}

/** The RunTask call the runner made for this deployment (moto's answer included), once it has answered. */
async function runTaskOf(deploymentId: string): Promise<{ call: Call; arn: string }> {
  for (let i = 0; i < 200; i++) {
    const call = calls.find((c) => c.action === "RunTask" && c.request.clientToken === deploymentId);
    if (call) {
      const tasks = (call.response as { tasks?: { taskArn?: string }[] }).tasks ?? [];
      return { call, arn: tasks[0]?.taskArn ?? "" };
    }
    await Bun.sleep(25);
  }
  throw new Error(`no RunTask for ${deploymentId}`);
}

async function describe(arn: string): Promise<Task> {
  const { tasks } = await admin.send(new DescribeTasksCommand({ cluster, tasks: [arn], include: ["TAGS"] }));
  const task = tasks?.[0];
  if (!task) throw new Error(`moto does not know ${arn}`);
  return task;
}

test("runs the builder task with the configured settings and a job good for one deployment only", async () => {
  const j = job();
  const { build } = start(j);
  const { call, arn } = await runTaskOf(j.deploymentId);
  expect(arn).toStartWith("arn:aws:ecs:");

  // What moto recorded: cluster, task definition, launch type, who started it, the tag, the overrides.
  const task = await describe(arn);
  expect(task.clusterArn).toEndWith(`:cluster/${cluster}`);
  expect(task.taskDefinitionArn).toEndWith(`:task-definition/${family}:1`);
  expect(task.launchType).toBe("FARGATE");
  // startedBy is the deployment: how any worker finds this deployment's builder again (ListTasks).
  expect(task.startedBy).toBe(j.deploymentId);
  expect(task.lastStatus).toBe("RUNNING");
  expect(task.tags).toEqual([{ key: "deployment", value: j.deploymentId }]);
  const overrides = task.overrides?.containerOverrides ?? [];
  expect(overrides).toHaveLength(1);
  expect(overrides[0]?.name).toBe("builder");
  expect(overrides[0]?.memory).toBe(1536);
  // The job is the task's only input: one variable, nothing else of the worker's environment.
  const environment = overrides[0]?.environment ?? [];
  expect(environment.map((e) => e.name)).toEqual(["MINIVERCEL_JOB"]);
  const encoded = environment[0]?.value ?? "";
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const remote = parseJob(JSON.parse(decoded));

  // Results go to the build API with a token that speaks for this deployment and no other.
  expect(remote.output.kind).toBe("http");
  if (remote.output.kind !== "http") throw new Error("unreachable");
  expect(remote.output.apiUrl).toBe("https://minivercel.example.com");
  expect(tokens.verify(remote.output.token)).toBe(j.deploymentId);
  expect(Object.keys(remote.output).sort()).toEqual(["apiUrl", "kind", "token"]);
  // No platform secret: not the worker's artifact store, its keys or its paths.
  expect(decoded).not.toContain(SECRET);
  expect(decoded).not.toContain("AKIAWORKER");
  expect(decoded).not.toContain("/var/lib/minivercel");
  // The task is the isolation boundary (no user namespaces on Fargate); local git paths mean nothing there.
  expect(remote.sandbox).toBe("none");
  expect(remote.allowLocalGit).toBe(false);
  expect(remote.cacheDir).toBeNull();
  expect(remote.workDir).toBe(`/build/${j.deploymentId}`);
  // The build itself is unchanged.
  expect(remote).toMatchObject({
    deploymentId: j.deploymentId,
    gitUrl: j.gitUrl,
    branch: "main",
    buildCommand: "npm run build",
    outputDirectory: "dist",
    env: { API_KEY: "project-variable" },
    limits: j.limits,
  });

  // What moto does not echo, read off the wire: awsvpc network settings, count, the idempotency token.
  expect(call.request).toMatchObject({
    cluster,
    taskDefinition: family,
    launchType: "FARGATE",
    count: 1,
    clientToken: j.deploymentId,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        securityGroups: ["sg-0123456789abcdef0"],
        assignPublicIp: "DISABLED",
      },
    },
  });

  build.stop("canceled");
  await build.done;
});

test("a task that stops on its own fails the deployment with ECS's reason", async () => {
  const j = job();
  const { build, events } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  // Still running: the runner waits and reports nothing meanwhile.
  await Bun.sleep(200);
  expect(events).toEqual([]);
  expect((await describe(arn)).lastStatus).toBe("RUNNING");

  // As if the builder's container died: ECS stops the task, with its reason.
  await admin.send(
    new StopTaskCommand({
      cluster,
      task: arn,
      reason: "OutOfMemoryError: Container killed due to memory usage",
    }),
  );
  await build.done;
  // The reason closes the build's log (on the runner's own line number) and ends it.
  expect(events).toHaveLength(2);
  expect(events[0]).toMatchObject({ type: "log", seq: RUNNER_LOG_SEQ, stream: "system" });
  expect(events[1]).toMatchObject({ type: "status", deploymentId: j.deploymentId, status: "FAIL" });
  const reason = events[1]?.type === "status" ? (events[1].reason ?? "") : "";
  expect(reason).toContain("the build task stopped without reporting a result");
  expect(reason).toContain("OutOfMemoryError: Container killed due to memory usage");
  expect(reason).toContain("exit code");
  expect(events[0]?.type === "log" && events[0].text).toBe(`Error: ${reason}`);
  // It only watched: no StopTask of its own.
  expect(calls.filter((c) => c.action === "StopTask" && c.request.task === arn)).toEqual([]);
});

test("stop('canceled') stops the task and reports CANCELED", async () => {
  const j = job();
  const { build, events } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  build.stop("canceled");
  build.stop("timeout"); // a second stop changes nothing
  await build.done;
  const task = await describe(arn);
  expect(task.lastStatus).toBe("STOPPED");
  expect(task.stoppedReason).toBe("canceled by user");
  expect(calls.filter((c) => c.action === "StopTask" && c.request.task === arn)).toHaveLength(1);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ type: "status", status: "CANCELED", reason: "canceled" });
});

test("stop('timeout') stops the task and reports FAIL with the time limit", async () => {
  const j = job();
  const { build, events } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  build.stop("timeout");
  await build.done;
  const task = await describe(arn);
  expect(task.lastStatus).toBe("STOPPED");
  expect(task.stoppedReason).toBe("build timed out");
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ type: "status", status: "FAIL", reason: "build timed out after 600 s" });
});

test("a failed DescribeTasks is logged with the deployment, and the watch goes on", async () => {
  const j = job();
  const { build, events, logged } = start(j);
  await runTaskOf(j.deploymentId);
  faults.set("DescribeTasks", 1);
  for (let i = 0; i < 200 && logged.length === 0; i++) await Bun.sleep(25);
  expect(logged).toEqual([
    expect.objectContaining({
      level: "warn",
      msg: "runner: DescribeTasks failed",
      deploymentId: j.deploymentId,
      failures: 1,
      error: expect.stringContaining("injected by the test"),
    }),
  ]);
  build.stop("canceled");
  await build.done;
  expect(events).toEqual([expect.objectContaining({ status: "CANCELED" })]);
});

test("a failed StopTask is logged with the deployment and the task, and sent again", async () => {
  const j = job();
  const { build, events, logged } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  faults.set("StopTask", 1);
  build.stop("canceled");
  await build.done;
  expect(logged).toEqual([
    expect.objectContaining({
      level: "warn",
      msg: "runner: StopTask failed",
      deploymentId: j.deploymentId,
      task: arn,
      error: expect.stringContaining("injected by the test"),
    }),
  ]);
  expect((await describe(arn)).lastStatus).toBe("STOPPED");
  expect(events).toEqual([expect.objectContaining({ status: "CANCELED" })]);
});

test("a stop that comes while RunTask is under way still stops the task it started", async () => {
  const j = job();
  const { build, events } = start(j);
  build.stop("canceled");
  await build.done;
  const { arn } = await runTaskOf(j.deploymentId);
  expect((await describe(arn)).lastStatus).toBe("STOPPED");
  expect(events).toEqual([expect.objectContaining({ status: "CANCELED" })]);
});

test("RunTask refused (unknown task definition): FAIL with ECS's reason", async () => {
  const j = job();
  const { build, events } = start(j, config({ taskDefinition: `minivercel-missing-${crypto.randomUUID()}` }));
  await build.done;
  expect(events).toHaveLength(2);
  expect(events[1]).toMatchObject({ type: "status", deploymentId: j.deploymentId, status: "FAIL" });
  const reason = events[1]?.type === "status" ? (events[1].reason ?? "") : "";
  expect(events[0]).toMatchObject({ type: "log", text: `Error: ${reason}` });
  expect(reason).toStartWith("could not start the build task on ECS: ClientException:");
  expect(reason).toContain("task definition");
});

test("RunTask refused (unknown cluster): FAIL with ECS's reason", async () => {
  const j = job();
  const { build, events } = start(j, config({ cluster: `minivercel-missing-${crypto.randomUUID()}` }));
  await build.done;
  expect(events).toEqual([
    expect.objectContaining({ type: "log", seq: RUNNER_LOG_SEQ }),
    expect.objectContaining({
      status: "FAIL",
      reason: "could not start the build task on ECS: ClusterNotFoundException: Cluster not found.",
    }),
  ]);
});

test("a job too large for ECS's overrides fails without calling RunTask", async () => {
  const j = job({ BIG: "x".repeat(9000) });
  const { build, events } = start(j);
  await build.done;
  expect(events).toHaveLength(2);
  expect(events[1]).toMatchObject({ status: "FAIL" });
  const reason = events[1]?.type === "status" ? (events[1].reason ?? "") : "";
  expect(reason).toContain("too large for ECS");
  expect(calls.filter((c) => c.action === "RunTask" && c.request.clientToken === j.deploymentId)).toEqual([]);
});

/** This deployment's tasks as ECS lists them (startedBy is the deployment id); RUNNING ones unless `all`. */
async function tasksOf(deploymentId: string, all = false): Promise<string[]> {
  const running = await admin.send(
    new ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus: "RUNNING" }),
  );
  if (!all) return running.taskArns ?? [];
  const stopped = await admin.send(
    new ListTasksCommand({ cluster, startedBy: deploymentId, desiredStatus: "STOPPED" }),
  );
  return [...(running.taskArns ?? []), ...(stopped.taskArns ?? [])];
}

test("ECS_COUNT is builds per worker: each deployment is still one task (RunTask count 1)", async () => {
  const ecs = config({ count: 3 });
  expect(runner(ecs).concurrency).toBe(3);
  expect(runner(config()).concurrency).toBeUndefined();
  const j = job();
  const { build } = start(j, ecs);
  const { call } = await runTaskOf(j.deploymentId);
  expect(call.request.count).toBe(1);
  expect(await tasksOf(j.deploymentId)).toHaveLength(1);
  build.stop("canceled");
  await build.done;
});

test("two workers starting the same deployment at once leave one builder task, and both watch it", async () => {
  const j = job();
  const a = start(j);
  const b = start(j);
  // Both looked (ListTasks) before either started one, so both ran RunTask (moto ignores clientToken): each then
  // sees two tasks and keeps the one with the first ARN.
  await Bun.sleep(1000);
  expect(
    calls.filter((c) => c.action === "RunTask" && c.request.clientToken === j.deploymentId).length,
  ).toBeGreaterThanOrEqual(1);
  const live = await tasksOf(j.deploymentId);
  expect(live).toHaveLength(1);
  const all = await tasksOf(j.deploymentId, true);
  expect(all.length).toBeGreaterThanOrEqual(1);
  for (const arn of all.filter((x) => x !== live[0]))
    expect((await describe(arn)).stoppedReason).toBe("duplicate builder of this deployment");
  // Neither reported anything: the one task kept is still building.
  expect([...a.events, ...b.events]).toEqual([]);
  // The kept task's end reaches both (each worker publishes; applying twice changes nothing).
  const [kept = ""] = live;
  await admin.send(new StopTaskCommand({ cluster, task: kept, reason: "Task failed to start" }));
  await Promise.all([a.build.done, b.build.done]);
  for (const events of [a.events, b.events])
    expect(events.at(-1)).toMatchObject({
      status: "FAIL",
      reason: expect.stringContaining("Task failed to start"),
    });
});

test("a worker starting a deployment whose builder already runs adopts it instead of starting another", async () => {
  const j = job();
  const first = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  const second = start(j);
  await Bun.sleep(300);
  expect(
    calls.filter((c) => c.action === "RunTask" && c.request.clientToken === j.deploymentId),
  ).toHaveLength(1);
  expect(await tasksOf(j.deploymentId)).toEqual([arn]);
  second.build.stop("canceled");
  await second.build.done;
  first.build.stop("canceled");
  await first.build.done;
  expect((await describe(arn)).lastStatus).toBe("STOPPED");
});

test("a builder that exited by itself (exit 0) adds nothing to the log: it reported its own result", async () => {
  const j = job();
  const { build, events } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  await admin.send(new StopTaskCommand({ cluster, task: arn, reason: "Essential container in task exited" }));
  await build.done;
  // Only the fallback status, which the worker ignores when the builder's READY or FAIL came first.
  expect(events).toEqual([expect.objectContaining({ type: "status", status: "FAIL" })]);
});

test("a push-remote project's task fetches from the platform with a short-lived token for that deployment", async () => {
  const j = { ...job(), gitUrl: "file:///var/lib/minivercel/git/p.git", pushRemote: "/git/site.git" };
  const before = Date.now();
  const { build } = start(j);
  const { arn } = await runTaskOf(j.deploymentId);
  const task = await describe(arn);
  const encoded = task.overrides?.containerOverrides?.[0]?.environment?.[0]?.value ?? "";
  const remote = parseJob(JSON.parse(Buffer.from(encoded, "base64").toString("utf8")));
  expect(remote.gitUrl).toBe("https://minivercel.example.com/git/site.git");
  expect(remote.allowLocalGit).toBe(false);
  const token = remote.gitToken ?? "";
  expect(tokens.verifyFetch(token)).toBe(j.deploymentId);
  // Read-only and short-lived: not a build token, and gone once the build's time limit has passed.
  expect(tokens.verify(token)).toBeNull();
  expect(tokens.verifyFetch(token, before + j.limits.timeoutMs + 2000)).toBeNull();
  expect(JSON.stringify(remote)).not.toContain("/var/lib/minivercel");
  build.stop("canceled");
  await build.done;
});

test("a task that never starts (stuck PENDING) is stopped after the start timeout and fails with that reason", async () => {
  const j = job();
  const { build, events } = start(j, config(), 400);
  const { arn } = await runTaskOf(j.deploymentId);
  pending.add(arn);
  await build.done;
  pending.delete(arn);
  const task = await describe(arn);
  expect(task.lastStatus).toBe("STOPPED");
  expect(task.stoppedReason).toBe("did not start within 0.4 s");
  const reason =
    "the build task stopped without reporting a result: it did not start within 0.4 s (last status PENDING)";
  expect(events).toEqual([
    expect.objectContaining({ type: "log", seq: RUNNER_LOG_SEQ, text: `Error: ${reason}` }),
    expect.objectContaining({ type: "status", status: "FAIL", reason }),
  ]);
});

// Cron jobs end to end: a repository's `.vercel/output` declares jobs, the real builder deploys it, and the
// proxies' schedule runs the due ones against production through the real proxy and runtime, once across two
// schedules sharing the store, with Vercel's user agent and CRON_SECRET, recorded and in the runtime log.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { setEnvVar } from "../deploy/env.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { apiClient, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { signInAs, Visitor } from "../testing/visitor.ts";
import { type CronSchedule, deploymentCrons, startCronSchedule } from "./crons.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let userId: string;
let owner: Awaited<ReturnType<typeof testUser>>;
let token: string;
const schedules: CronSchedule[] = [];

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  owner = await testUser(deps);
  userId = owner.user.id;
  token = owner.token;
  proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
});
afterAll(async () => {
  for (const s of schedules) await s.stop();
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

function schedule(instanceId: string): CronSchedule {
  const made = startCronSchedule(deps, proxy, { timer: false, instanceId });
  schedules.push(made);
  return made;
}

const vc = JSON.stringify({ runtime: "nodejs20.x", handler: "index.mjs", launcherType: "Nodejs" });
// The job prints what it was sent (its runtime log line carries the run's request id) and answers per path.
const job = `export function GET(request) {
  const url = new URL(request.url);
  console.log("job " + url.pathname + url.search + " ua=" + request.headers.get("user-agent") + " auth=" + request.headers.get("authorization"));
  return new Response("done", { status: url.pathname === "/api/failing" ? 500 : 200 });
}`;

const OUTPUT = (crons: unknown): Record<string, string> => ({
  ".vercel/output/config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }], crons }),
  ".vercel/output/static/index.html": "home",
  ".vercel/output/functions/api/job.func/.vc-config.json": vc,
  ".vercel/output/functions/api/job.func/index.mjs": job,
  ".vercel/output/functions/api/failing.func/.vc-config.json": vc,
  ".vercel/output/functions/api/failing.func/index.mjs": job,
});

async function deploy(projectId: string, branch?: string): Promise<string> {
  const d = await queueDeployment(deps, userId, { projectId, ...(branch && { branch }) });
  for (let i = 0; i < 1200; i++) {
    const now = await deps.store.deployments.find(d.id);
    if (now?.status === "READY") return d.id;
    if (now?.status === "FAIL") throw new Error(`build failed: ${now.statusReason}`);
    await Bun.sleep(100);
  }
  throw new Error("the deployment did not end");
}

describe("cron jobs", () => {
  let projectId = "";
  let productionId = "";
  let repo: ReturnType<typeof fixtureRepo>;

  beforeAll(async () => {
    repo = fixtureRepo(
      OUTPUT([
        { path: "/api/job?from=cron", schedule: "*/10 * * * *" },
        { path: "/api/failing", schedule: "0 5 * * 1" },
        // Never due (February 31st); its path is hostile markup for the dashboard.
        { path: "/api/job?q=<script>alert(1)</script>", schedule: "0 0 31 2 *" },
      ]),
    );
    const project = await createProject(deps.store, deps.config, userId, {
      name: `cron-${crypto.randomUUID().slice(0, 6)}`,
      gitUrl: repo.url,
    });
    projectId = project.id;
    await setEnvVar(deps.store, deps.sealer, userId, projectId, "CRON_SECRET", "s3cret-value-0123456789");
    productionId = await deploy(projectId);
    await proxy.reconcile();
  }, 180_000);

  test("the deployment's jobs are recorded in its manifest", async () => {
    expect(await deploymentCrons(deps.artifacts, productionId)).toEqual([
      { path: "/api/job?from=cron", schedule: "*/10 * * * *" },
      { path: "/api/failing", schedule: "0 5 * * 1" },
      { path: "/api/job?q=<script>alert(1)</script>", schedule: "0 0 31 2 *" },
    ]);
  });

  test("a due job runs once on production, with the cron user agent and CRON_SECRET, recorded and logged", async () => {
    const a = schedule("proxy-a");
    const b = schedule("proxy-b");
    const at = new Date("2031-03-03T10:20:30Z");
    const [ranA, ranB] = await Promise.all([a.tick(at), b.tick(at)]);
    const runs = [...ranA, ...ranB];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      projectId,
      deploymentId: productionId,
      path: "/api/job?from=cron",
      trigger: "schedule",
      scheduledAt: "2031-03-03T10:20:00.000Z",
      status: 200,
      error: null,
    });
    const [recorded] = await deps.store.cronRuns.recent(projectId, 10);
    expect(recorded).toMatchObject({ id: runs[0]?.id, status: 200 });
    expect(recorded?.finishedAt).not.toBeNull();

    // The function's line and the platform's notes share the run's request id.
    const requestId = `cron-${runs[0]?.id}`;
    let lines: string[] = [];
    for (let i = 0; i < 50 && lines.length < 3; i++) {
      await Bun.sleep(100);
      const read = await deps.runtimeLogs.read(productionId, { limit: 100 });
      lines = read.filter((l) => l.requestId === requestId).map((l) => `${l.stream} ${l.text}`);
    }
    expect(lines).toContain(
      "stdout job /api/job?from=cron ua=vercel-cron/1.0 auth=Bearer s3cret-value-0123456789",
    );
    expect(lines.some((l) => /^system cron: GET \/api\/job\?from=cron answered 200 in \d+ ms$/.test(l))).toBe(
      true,
    );

    // The same minute again does nothing; a minute that is not due neither.
    expect(await a.tick(new Date("2031-03-03T10:20:59Z"))).toEqual([]);
    expect(await b.tick(new Date("2031-03-03T10:21:00Z"))).toEqual([]);
  }, 60_000);

  test("a failing job is recorded with its status and counted", async () => {
    const before = await deps.metrics.registry.expose();
    const runs = await schedule("proxy-c").tick(new Date("2031-03-03T05:00:00Z"));
    expect(runs.map((r) => [r.path, r.status])).toEqual([
      ["/api/job?from=cron", 200],
      ["/api/failing", 500],
    ]);
    const after = await deps.metrics.registry.expose();
    const count = (text: string) =>
      Number(/minivercel_cron_runs_total\{result="failed"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count(after)).toBe(count(before) + 1);
  }, 60_000);

  test("the API lists the production deployment's jobs, when each runs next and its last run; to its owner only", async () => {
    const { status, body } = await apiClient(deps, token)("GET", `/api/projects/${projectId}/crons`);
    expect(status).toBe(200);
    const crons = body as {
      deploymentId: string;
      jobs: {
        path: string;
        schedule: string;
        nextRunAt: string | null;
        lastRun: { status: number } | null;
      }[];
      runs: { path: string; status: number; trigger: string }[];
    };
    expect(crons.deploymentId).toBe(productionId);
    expect(crons.jobs.map((j) => [j.path, j.schedule, j.lastRun?.status])).toEqual([
      ["/api/job?from=cron", "*/10 * * * *", 200],
      ["/api/failing", "0 5 * * 1", 500],
      ["/api/job?q=<script>alert(1)</script>", "0 0 31 2 *", undefined],
    ]);
    expect(crons.jobs[2]?.nextRunAt).toBeNull();
    const next = Date.parse(crons.jobs[0]?.nextRunAt ?? "");
    expect(next - Date.now()).toBeGreaterThan(0);
    expect(next - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    expect(new Date(next).getUTCMinutes() % 10).toBe(0);
    expect(crons.runs.length).toBe(3);
    expect(crons.runs.every((r) => r.trigger === "schedule" && !("claimedBy" in r))).toBe(true);

    const stranger = await testUser(deps);
    expect((await apiClient(deps, stranger.token)("GET", `/api/projects/${projectId}/crons`)).status).toBe(
      404,
    );
    expect((await apiClient(deps, null)("GET", `/api/projects/${projectId}/crons`)).status).toBe(401);
  });

  test("the dashboard's project page shows the jobs, escaped, with their last run", async () => {
    const visitor = new Visitor(createDashboard(deps));
    await signInAs(deps.store, visitor, owner.user);
    const page = await visitor.get(`/projects/${projectId}`);
    expect(page.status).toBe(200);
    const section = /<section[^>]*id="cron-jobs"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? "";
    expect(section).toContain("/api/job?from=cron");
    expect(section).toContain("*/10 * * * *");
    expect(section).toContain('data-status="OK"');
    expect(section).toContain('data-status="FAILED"');
    expect(section).toContain(`/deployments/${productionId}/runtime-logs`);
    expect(section).toContain("/api/job?q=&lt;script>alert(1)&lt;/script>");
    expect(section).not.toContain("<script>");
    expect(section).toContain("never");
  });

  test("only production runs jobs: a preview deployment's jobs never do", async () => {
    repo.commit({ ".vercel/output/static/index.html": "preview" }, "feature");
    const preview = await deploy(projectId, "feature");
    expect(await deploymentCrons(deps.artifacts, preview)).toHaveLength(3);
    const runs = await schedule("proxy-d").tick(new Date("2031-03-03T10:30:00Z"));
    expect(runs.map((r) => r.deploymentId)).toEqual([productionId]);
  }, 180_000);
});

test("a schedule that config.json gets wrong fails the deployment, naming the job", async () => {
  const repo = fixtureRepo(OUTPUT([{ path: "/api/job", schedule: "61 * * * *" }]));
  const project = await createProject(deps.store, deps.config, userId, {
    name: `cron-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: repo.url,
  });
  const failed = await deploy(project.id).then(
    () => null,
    (error: Error) => error.message,
  );
  expect(failed).toContain("crons[0].schedule");
}, 180_000);

describe("cron jobs of a zero-config project (vercel.json)", () => {
  const files = (vercelJson: string): Record<string, string> => ({
    "index.html": "home",
    "api/tick.ts": `export function GET(request: Request) {
      console.log("tick ua=" + request.headers.get("user-agent"));
      return new Response("ticked");
    }`,
    "vercel.json": vercelJson,
  });

  async function project(vercelJson: string) {
    const p = await createProject(deps.store, deps.config, userId, {
      name: `cron-${crypto.randomUUID().slice(0, 6)}`,
      gitUrl: fixtureRepo(files(vercelJson)).url,
    });
    return p.id;
  }

  test("vercel.json's crons run the api/ function on schedule", async () => {
    const id = await project(
      JSON.stringify({ crons: [{ path: "/api/tick", schedule: "0 12 * * *" }], cleanUrls: true }),
    );
    const deploymentId = await deploy(id);
    expect(await deploymentCrons(deps.artifacts, deploymentId)).toEqual([
      { path: "/api/tick", schedule: "0 12 * * *" },
    ]);
    const lines = (await deps.logs.read(deploymentId, 0, 1000)).map((l) => l.text).join("\n");
    expect(lines).toContain("vercel.json: cleanUrls not supported here and ignored (only crons is read)");
    await proxy.reconcile();
    const runs = await schedule("proxy-z").tick(new Date("2031-03-04T12:00:00Z"));
    expect(runs.filter((r) => r.projectId === id).map((r) => [r.path, r.status])).toEqual([
      ["/api/tick", 200],
    ]);
  }, 180_000);

  test("a mistake in vercel.json fails the build, naming the file and the field", async () => {
    const bad = await deploy(
      await project(JSON.stringify({ crons: [{ path: "api/tick", schedule: "* * *" }] })),
    ).then(
      () => "",
      (error: Error) => error.message,
    );
    expect(bad).toContain("vercel.json: crons[0].path: must start with /");
    expect(bad).toContain("crons[0].schedule");
    const broken = await deploy(await project("{ crons: nope")).then(
      () => "",
      (error: Error) => error.message,
    );
    expect(broken).toContain("vercel.json: not valid JSON");
  }, 180_000);
});

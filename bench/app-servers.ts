// Bench: an Express app server (express 4.21.2 from the npm registry, built by the real builder in its sandbox).
// 1. Wake from sleep to first byte: the server is stopped as idle, then one request is timed until its first byte
//    arrives through the proxy (sandbox start, node start, health check, relay), BENCH_WAKES times (default 5).
// 2. Requests/s under wrk through the proxy (proxy -> sandbox relay -> app) beside the same app, the same files, run
//    directly with node on a host port, interleaved for BENCH_ROUNDS rounds (default 3) of BENCH_SECONDS (10).
// 3. CPU per request of each process on the way (the proxy, the launcher's relay in the sandbox, the app) and of the
//    app run directly: steadier than requests/s on a shared machine, and says where the proxied path's time goes.
// Needs wrk (apt-get install wrk) and the sandbox (bubblewrap); the build installs express from the registry.
// Run: bun bench/app-servers.ts

import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { queueDeployment } from "../src/deploy/deploy.ts";
import { createProject } from "../src/deploy/projects.ts";
import { createProxy } from "../src/proxy/proxy.ts";
import { type Running, startRoles } from "../src/roles.ts";
import { createRuntime, type FunctionRuntime } from "../src/runtime/runtime.ts";
import type { RelayData } from "../src/runtime/websocket.ts";
import { withWebSockets } from "../src/runtime/websocket.ts";
import { testDeps, testUser } from "../src/testing/deps.ts";
import { fixtureRepo } from "../src/testing/repos.ts";
import { output, type Proc, processes, tree } from "./lib/proc.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WAKES = Number(process.env.BENCH_WAKES ?? 5);

const EXPRESS: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "bench-express",
    private: true,
    scripts: { start: "node server.js" },
    dependencies: { express: "4.21.2" },
  }),
  "server.js": `const express = require("express");
const app = express();
app.get("/api/hello", (req, res) => res.json({ hello: "world", at: req.query.at ?? null }));
app.listen(Number(process.env.PORT), "127.0.0.1");
`,
};

if (Bun.which("wrk") === null) {
  console.error("bench/app-servers: wrk is not installed (apt-get install wrk)");
  process.exit(2);
}

/** wrk as a child the event loop waits for: the proxy under test runs in this very process. */
async function wrk(
  port: number,
  host: string,
): Promise<{ rps: number; errors: number; p99: string; requests: number }> {
  const argv = ["wrk", "-t1", "-c32", `-d${SECONDS}s`, "--latency", "-H", `Host: ${host}`];
  argv.push(`http://127.0.0.1:${port}/api/hello`);
  const { stdout: out, stderr: err, code } = await output(argv);
  if (code !== 0) throw new Error(`wrk failed: ${err}`);
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(out)
      ?.slice(1)
      .reduce((a, b) => a + Number(b), 0) ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    errors,
    p99: /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?",
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
  };
}

/** CPU seconds so far of the proxied path's processes: this one (the proxy), the launcher (inside the sandbox
 * at /opt/minivercel/launcher.ts, src/runtime/instances.ts), the app under it. */
function pathCpu(): { proxy: number; launcher: number; app: number } {
  const all = processes();
  const launchers = all.filter(
    (p) => p.command.includes("/opt/minivercel/launcher.ts") && !p.command.includes("bwrap"),
  );
  const sum = (ps: Proc[]) => ps.reduce((total, p) => total + p.cpu, 0);
  const usage = process.cpuUsage();
  return {
    proxy: (usage.user + usage.system) / 1e6,
    launcher: sum(launchers),
    app: sum(launchers.flatMap((l) => tree(all, l.pid).filter((p) => p.pid !== l.pid))),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
let roles: Running | null = null;
let direct: ReturnType<typeof Bun.spawn> | null = null;
let runtime: FunctionRuntime | null = null;
try {
  roles = await startRoles(deps);
  const { user } = await testUser(deps);
  // One idle "minute" lasts a second: the wakes below need the server asleep.
  const proxy = await createProxy(
    deps,
    { reconcileMs: 60_000, appMinuteMs: 1000 },
    {
      runtime: () => {
        runtime = createRuntime(deps);
        return runtime;
      },
    },
  );
  const listener = Bun.serve<RelayData>({
    hostname: "127.0.0.1",
    port: 0,
    ...withWebSockets(proxy, (request) => proxy.fetch(request)),
  });
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "bench-express",
    gitUrl: fixtureRepo(EXPRESS).url,
    idleTimeoutMinutes: 1,
  });
  console.log("building the Express app (npm install in the sandbox)...");
  const deployment = await queueDeployment(deps, user.id, { projectId: project.id });
  for (let i = 0; ; i++) {
    const now = await deps.store.deployments.find(deployment.id);
    if (now?.status === "READY") break;
    if (now?.status === "FAIL" || i > 3000) throw new Error(`build failed: ${now?.statusReason}`);
    await Bun.sleep(100);
  }
  await proxy.reconcile();
  const host = `${project.subDomain}.${deps.config.sitesDomain}`;
  const instances = () => (runtime?.apps?.view(deployment.id)[0]?.instances.length ?? 0) as number;

  const wakes: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    while (instances() > 0) await Bun.sleep(50);
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${listener.port}/api/hello?at=${i}`, { headers: { host } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    wakes.push(performance.now() - started);
    await reader.cancel();
    if (res.status !== 200) throw new Error(`wake ${i}: HTTP ${res.status}`);
  }
  console.log(
    `wake to first byte (ms): ${wakes.map((w) => w.toFixed(0)).join(", ")}; median ${median(wakes).toFixed(0)}`,
  );

  // The same files the instance runs (the runtime's copy, with node_modules), run directly on a host port.
  const bundles = join(deps.config.dataDir, "runtime", "bundles");
  const dir = readdirSync(bundles).find((name) => name.startsWith("app-"));
  if (!dir) throw new Error("the app's files are not in the runtime's bundles");
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  direct = Bun.spawn(["node", "server.js"], {
    cwd: join(bundles, dir),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(port), NODE_ENV: "production" },
    stdout: "ignore",
    stderr: "inherit",
  });
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/api/hello`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await Bun.sleep(50);
  }
  // Longer idle time for the load: keep the proxied server up.
  await deps.store.projects.update(user.id, project.id, { idleTimeoutMinutes: 60 });
  await Bun.sleep(5100);
  const proxied: number[] = [];
  const directs: number[] = [];
  const cpu = {
    proxy: [] as number[],
    launcher: [] as number[],
    app: [] as number[],
    direct: [] as number[],
  };
  const directCpu = () => tree(processes(), direct?.pid ?? 0).reduce((sum, p) => sum + p.cpu, 0);
  const us = (seconds: number, requests: number) => (requests > 0 ? (seconds * 1e6) / requests : Number.NaN);
  for (let round = 1; round <= ROUNDS; round++) {
    const before = pathCpu();
    const p = await wrk(listener.port ?? 0, host);
    const after = pathCpu();
    const directBefore = directCpu();
    const d = await wrk(port, host);
    cpu.direct.push(us(directCpu() - directBefore, d.requests));
    for (const key of ["proxy", "launcher", "app"] as const)
      cpu[key].push(us(after[key] - before[key], p.requests));
    proxied.push(p.rps);
    directs.push(d.rps);
    console.log(
      `round ${round}: proxied ${p.rps.toFixed(0)} req/s (p99 ${p.p99}, errors ${p.errors}), direct ${d.rps.toFixed(0)} req/s (p99 ${d.p99}, errors ${d.errors})`,
    );
  }
  const ratio = median(proxied) / median(directs);
  console.log(
    `median: proxied ${median(proxied).toFixed(0)} req/s, direct ${median(directs).toFixed(0)} req/s, ratio ${ratio.toFixed(2)} (aim: at least 0.8)`,
  );
  const m = (xs: number[]) => median(xs).toFixed(1);
  const total = median(cpu.proxy) + median(cpu.launcher) + median(cpu.app);
  console.log(
    `CPU per request (µs, medians): proxied ${total.toFixed(1)} = proxy ${m(cpu.proxy)} + launcher relay ${m(cpu.launcher)} + app ${m(cpu.app)}; direct app ${m(cpu.direct)}`,
  );
  listener.stop(true);
  await proxy.stop();
} finally {
  direct?.kill();
  await roles?.stop(1000);
  await deps.close();
  rmSync(deps.config.dataDir, { recursive: true, force: true });
}

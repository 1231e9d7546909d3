// Bench: deploy overhead (POST /api/deploy -> READY, minus a bare clone + install + build of the same repo)
// and build-log latency (a line printed by the build -> an SSE client). Run: bun bench/deploy.ts
// Needs the network (npm registry) for the Vite fixture, and the sandbox (scripts/services.sh sandbox).

import { rmSync } from "node:fs";
import { join } from "node:path";
import { createApi } from "../src/api/app.ts";
import { startRoles } from "../src/roles.ts";
import { apiClient, tempDir, testDeps, testUser } from "../src/testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../src/testing/repos.ts";

const ROUNDS = 3;

const viteRepo = () => fixtureRepo(VITE_APP);

function run(argv: string[], cwd: string, env: Record<string, string> = {}): number {
  const started = performance.now();
  const result = Bun.spawnSync(argv, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  if (result.exitCode !== 0)
    throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString().slice(-500)}`);
  return performance.now() - started;
}

/** The same steps the platform performs, without the platform: clone, npm install, vite build (warm npm cache). */
function bareBuild(url: string, cache: string): number {
  const dir = tempDir("bench-bare-");
  const env = { npm_config_cache: cache };
  const ms =
    run(["git", "clone", "--quiet", "--depth=1", "--", url, "src"], dir) +
    run(["npm", "install", "--no-audit", "--no-fund"], join(dir, "src"), env) +
    run(["npm", "run", "build"], join(dir, "src"), env);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

const deps = await testDeps({
  PORT: "0",
  PROXY_PORT: "0",
  MINIVERCEL_ROLE: "api,worker",
  LISTEN_HOST: "127.0.0.1",
  // deployAndWait polls every 20 ms (3,000 reads a minute) to time READY closely: no request budgets here.
  RATE_LIMIT_IP_PER_MINUTE: "0",
  RATE_LIMIT_USER_PER_MINUTE: "0",
  // Every round builds the same commit: this measures a full build, not a reused one (bench/builds.ts does).
  BUILD_REUSE: "0",
});
const roles = await startRoles(deps);
const { token } = await testUser(deps);
const api = apiClient(deps, token);

async function deployAndWait(projectId: string): Promise<{ ms: number; id: string }> {
  const started = performance.now();
  const created = (await api("POST", "/api/deploy", { projectId })).body as { id: string };
  for (;;) {
    const d = (await api("GET", `/api/deployments/${created.id}`)).body as {
      status: string;
      statusReason: string;
    };
    if (d.status === "READY") return { ms: performance.now() - started, id: created.id };
    if (d.status === "FAIL" || d.status === "CANCELED") throw new Error(`deploy failed: ${d.statusReason}`);
    await Bun.sleep(20);
  }
}

try {
  // --- deploy overhead -------------------------------------------------------------------------
  const repo = viteRepo();
  const project = (await api("POST", "/api/projects", { name: "bench vite", gitUrl: repo.url })).body as {
    id: string;
  };
  const bareCache = tempDir("bench-npm-cache-");
  bareBuild(repo.url, bareCache); // warm the bare path's npm cache
  await deployAndWait(project.id); // warm the project's cache
  const bare: number[] = [];
  const platform: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    bare.push(bareBuild(repo.url, bareCache));
    platform.push((await deployAndWait(project.id)).ms);
  }
  const median = (xs: number[]) => percentile(xs, 50);
  console.log("\nDeploy overhead, Vite fixture (warm caches, median of %d rounds)", ROUNDS);
  console.log("| path | median ms | all rounds ms |");
  console.log("|---|---|---|");
  console.log(
    `| bare clone + npm install + vite build | ${median(bare).toFixed(0)} | ${bare.map((x) => x.toFixed(0)).join(", ")} |`,
  );
  console.log(
    `| POST /api/deploy -> READY | ${median(platform).toFixed(0)} | ${platform.map((x) => x.toFixed(0)).join(", ")} |`,
  );
  console.log(`| overhead | ${(median(platform) - median(bare)).toFixed(0)} | |`);

  // --- log latency ------------------------------------------------------------------------------
  const chatty = fixtureRepo({
    "package.json": JSON.stringify({
      name: "bench-log",
      scripts: {
        build:
          "node -e \"let n=0;const t=setInterval(()=>{console.log('t='+Date.now());if(++n===500){clearInterval(t);require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.html','ok')}},10)\"",
      },
    }),
  });
  const logProject = (
    await api("POST", "/api/projects", { name: "bench log", gitUrl: chatty.url, installCommand: "true" })
  ).body as {
    id: string;
  };
  const created = (await api("POST", "/api/deploy", { projectId: logProject.id })).body as { id: string };
  const app = createApi(deps);
  const response = await app.handle(
    new Request(`http://localhost/api/deployments/${created.id}/logs/stream`, {
      headers: { authorization: `Bearer ${token}` },
    }),
  );
  const latencies: number[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body ?? []) {
    const now = Date.now();
    buffer += decoder.decode(chunk, { stream: true });
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop() ?? "";
    for (const block of blocks) {
      const printed = /"text":"t=(\d+)"/.exec(block)?.[1];
      if (printed) latencies.push(now - Number(printed));
    }
  }
  console.log("\nBuild log latency: line printed in the sandbox -> SSE client (%d lines)", latencies.length);
  console.log("| p50 ms | p90 ms | p99 ms | max ms |");
  console.log("|---|---|---|---|");
  console.log(
    `| ${percentile(latencies, 50)} | ${percentile(latencies, 90)} | ${percentile(latencies, 99)} | ${Math.max(...latencies)} |`,
  );
} finally {
  await roles.stop();
  await deps.close();
}

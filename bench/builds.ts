// Bench: first and repeated builds of the Vite fixture, on the platform (POST /api/deploy -> READY) beside the bare
// `npm ci && npm run build` of the same repository in the same run. Run: bun bench/builds.ts
// Needs the network (npm registry) and the sandbox (scripts/services.sh sandbox), like bench/deploy.ts.
//
// Rows: a first build (empty package caches), a rebuild after a commit that changes no dependency (warm package
// cache: BUILD_REUSE cannot apply, the source changed), and a redeploy of the unchanged app (build reuse).

import { rmSync } from "node:fs";
import { join } from "node:path";
import { startRoles } from "../src/roles.ts";
import { apiClient, tempDir, testDeps, testUser } from "../src/testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../src/testing/repos.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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

/** The Vite fixture with its lockfile, so that both paths run `npm ci`. */
function viteRepo() {
  const dir = tempDir("bench-lock-");
  for (const [name, content] of Object.entries(VITE_APP)) Bun.write(join(dir, name), content);
  run(["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"], dir);
  const lock = Bun.file(join(dir, "package-lock.json"));
  return lock.text().then((text) => {
    rmSync(dir, { recursive: true, force: true });
    return fixtureRepo({ ...VITE_APP, "package-lock.json": text });
  });
}

/** Clone + `npm ci && npm run build`, as a person would run it, with this npm cache. */
function bareBuild(url: string, cache: string): number {
  const dir = tempDir("bench-bare-");
  const env = { npm_config_cache: cache };
  const ms =
    run(["git", "clone", "--quiet", "--depth=1", "--", url, "src"], dir) +
    run(["npm", "ci", "--no-audit", "--no-fund"], join(dir, "src"), env) +
    run(["npm", "run", "build"], join(dir, "src"), env);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (xs: number[]) => `${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(", ")}`;

const deps = await testDeps({
  PORT: "0",
  PROXY_PORT: "0",
  MINIVERCEL_ROLE: "api,worker",
  LISTEN_HOST: "127.0.0.1",
  RATE_LIMIT_IP_PER_MINUTE: "0",
  RATE_LIMIT_USER_PER_MINUTE: "0",
});
const roles = await startRoles(deps);
const { token } = await testUser(deps);
const api = apiClient(deps, token);

async function deployAndWait(projectId: string): Promise<{ ms: number; log: string }> {
  const started = performance.now();
  const created = (await api("POST", "/api/deploy", { projectId })).body as { id: string };
  for (;;) {
    const d = (await api("GET", `/api/deployments/${created.id}`)).body as {
      status: string;
      statusReason: string;
    };
    if (d.status === "READY") {
      const ms = performance.now() - started;
      const log = (await deps.logs.read(created.id, 0, 10_000)).map((l) => l.text).join("\n");
      return { ms, log };
    }
    if (d.status === "FAIL" || d.status === "CANCELED") throw new Error(`deploy failed: ${d.statusReason}`);
    await Bun.sleep(20);
  }
}

try {
  const bare = { first: [] as number[], repeat: [] as number[] };
  const platform = { first: [] as number[], warm: [] as number[], reused: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const repo = await viteRepo();
    // Bare: an empty npm cache, then the same build again with it warm.
    const cache = tempDir("bench-npm-cache-");
    bare.first.push(bareBuild(repo.url, cache));
    bare.repeat.push(bareBuild(repo.url, cache));
    rmSync(cache, { recursive: true, force: true });

    // Platform: a new project (its package cache empty), a commit that changes no dependency, an unchanged redeploy.
    const project = (await api("POST", "/api/projects", { name: `bench builds ${round}`, gitUrl: repo.url }))
      .body as { id: string };
    const first = await deployAndWait(project.id);
    if (first.log.includes("Reused build output")) throw new Error("a new project reused a build");
    platform.first.push(first.ms);
    repo.commit({ "README.md": `round ${round}\n` });
    const warm = await deployAndWait(project.id);
    if (warm.log.includes("Reused build output")) throw new Error("a changed commit reused a build");
    platform.warm.push(warm.ms);
    const reused = await deployAndWait(project.id);
    if (!reused.log.includes("Reused build output"))
      throw new Error("the unchanged redeploy was built again");
    platform.reused.push(reused.ms);
  }
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.log(`\nBuilds of the Vite fixture (median of ${ROUNDS} rounds; load average at the end: ${load})`);
  console.log("| path | median ms | all rounds ms |");
  console.log("|---|---|---|");
  console.log(`| bare: clone + npm ci + vite build, empty npm cache | ${fmt(bare.first)} |`);
  console.log(`| bare: the same again, warm npm cache | ${fmt(bare.repeat)} |`);
  console.log(`| platform: first build of a new project (empty package cache) | ${fmt(platform.first)} |`);
  console.log(
    `| platform: rebuild after a commit, same lockfile (warm package cache) | ${fmt(platform.warm)} |`,
  );
  console.log(`| platform: redeploy of the unchanged app (reused build output) | ${fmt(platform.reused)} |`);
} finally {
  await roles.stop();
  await deps.close();
}

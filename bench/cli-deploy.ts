// Bench: CLI deploy-to-live time of a 1,000-file folder, first (every file new) and with one file changed.
// From spawning `minivercel deploy --prod` to the proxy serving the new content. Run: bun bench/cli-deploy.ts

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startRoles } from "../src/roles.ts";
import { apiClient, tempDir, testDeps, testUser } from "../src/testing/deps.ts";
import { output } from "./lib/proc.ts";

const ROUNDS = 5;
const FILES = 1000;
const MAIN = resolve(import.meta.dir, "..", "src", "main.ts");

const deps = await testDeps({
  PORT: "0",
  PROXY_PORT: "0",
  LISTEN_HOST: "127.0.0.1",
  MINIVERCEL_ROLE: "api,proxy",
});
const roles = await startRoles(deps);
const proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
const { token } = await testUser(deps);
const api = apiClient(deps, token);
const home = tempDir("bench-cli-home-");
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  MINIVERCEL_URL: (roles.urls.api ?? "").replace("localhost", "127.0.0.1"),
  MINIVERCEL_TOKEN: token,
};

/** Spawns the deploy, then polls the proxy until `path` serves `expected`; both times in ms from the spawn. */
async function deployToLive(dir: string, subDomain: string, path: string, expected: string) {
  const started = performance.now();
  const { stdout, stderr, code } = await output(
    [process.execPath, MAIN, "deploy", dir, "--prod", "--project", subDomain, "--json"],
    { env },
  );
  const exited = performance.now() - started;
  if (code !== 0) throw new Error(`deploy failed (${code}): ${stderr}`);
  const { uploaded } = JSON.parse(stdout) as { uploaded: number };
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${proxyPort}${path}`, {
      headers: { host: `${subDomain}.localhost` },
    });
    if ((await res.text()) === expected) break;
    await Bun.sleep(1);
  }
  return { exited, live: performance.now() - started, uploaded };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const first: number[] = [];
const firstExit: number[] = [];
const changed: number[] = [];
const changedExit: number[] = [];

try {
  // One warm-up deploy so the first round does not pay for cold caches of the server's code paths.
  for (let round = 0; round <= ROUNDS; round++) {
    const dir = join(tempDir("bench-cli-site-"), "site");
    for (let i = 0; i < FILES; i++) {
      mkdirSync(join(dir, `d${i % 20}`), { recursive: true });
      // ~2 KB each, fresh content every round: the first deploy uploads all of them.
      writeFileSync(
        join(dir, `d${i % 20}`, `f${i}.html`),
        `<p>${i} ${crypto.randomUUID()}</p>${"x".repeat(2000)}`,
      );
    }
    const project = (await api("POST", "/api/projects", { name: `bench ${round}` })).body as {
      subDomain: string;
    };
    const sample = await Bun.file(join(dir, "d7", "f7.html")).text();
    const a = await deployToLive(dir, project.subDomain, "/d7/f7.html", sample);
    const change = `<p>changed ${crypto.randomUUID()}</p>`;
    writeFileSync(join(dir, "d3", "f3.html"), change);
    const b = await deployToLive(dir, project.subDomain, "/d3/f3.html", change);
    if (a.uploaded !== FILES || b.uploaded !== 1)
      throw new Error(`uploaded ${a.uploaded} then ${b.uploaded}`);
    rmSync(dir, { recursive: true, force: true });
    if (round === 0) continue;
    first.push(a.live);
    firstExit.push(a.exited);
    changed.push(b.live);
    changedExit.push(b.exited);
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  console.log(
    `| deploy of ${FILES} files (~2 KB each) | median live ms | rounds live ms | rounds CLI exit ms |`,
  );
  console.log("|---|---|---|---|");
  console.log(
    `| first (${FILES} uploaded) | ${median(first).toFixed(0)} | ${fmt(first)} | ${fmt(firstExit)} |`,
  );
  console.log(
    `| one file changed (1 uploaded) | ${median(changed).toFixed(0)} | ${fmt(changed)} | ${fmt(changedExit)} |`,
  );
} finally {
  await roles.stop();
  await deps.close();
  rmSync(home, { recursive: true, force: true });
}

// Limits, step 4: MAX_CONCURRENT_BUILDS_PER_USER with the real launcher, local runner and event workers: a user's
// extra builds wait QUEUED and start as the earlier ones finish, while other users' builds go ahead.

import { afterEach, expect, test } from "bun:test";
import type { Env } from "../config/config.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { startEventWorkers } from "./apply-events.ts";
import { startLauncher } from "./launcher.ts";
import { localRunner } from "./runner-local.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function queued(deps: Deps, userId: string, gitUrl: string, name: string): Promise<Deployment> {
  const project = await createProject(deps.store, deps.config, userId, { name, gitUrl });
  return deps.store.deployments.create({
    projectId: project.id,
    userId,
    status: "QUEUED",
    target: "production",
    branch: "main",
    commitSha: null,
  });
}

/** Queues 3 builds for one user and 1 for another, all before the launcher starts; runs them all to READY. */
async function runBuilds(env: Env) {
  const deps = await testDeps({ BUILD_SANDBOX: "none", BUILD_CONCURRENCY: "4", ...env });
  cleanup.push(() => deps.close());
  const repo = fixtureRepo({ "index.html": "<p>limits</p>" });
  const { user: busy } = await testUser(deps);
  const { user: other } = await testUser(deps);
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push(await queued(deps, busy.id, repo.url, `busy-${i}`));
  const theirs = await queued(deps, other.id, repo.url, "other");

  const events = await startEventWorkers(deps);
  const launcher = startLauncher({ ...deps, runner: localRunner(), pollMs: 50 });
  cleanup.push(
    () => events.stop(),
    () => launcher.stop(),
  );
  const all = [...mine, theirs];
  const end = Date.now() + 60_000;
  const done = async () =>
    (await Promise.all(all.map((d) => deps.store.deployments.find(d.id)))).every(
      (d) => d?.status === "READY",
    );
  while (!(await done()) && Date.now() < end) await Bun.sleep(50);
  const final = async (ids: Deployment[]) =>
    Promise.all(ids.map(async (d) => (await deps.store.deployments.find(d.id)) as Deployment));
  return { mine: await final(mine), theirs: (await final([theirs]))[0] as Deployment };
}

/** True when some two of the builds ran at the same time (from their recorded start and finish). */
function overlapping(builds: Deployment[]): boolean {
  const sorted = [...builds].sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt)));
  return sorted.some((d, i) => i > 0 && String(d.startedAt) < String(sorted[i - 1]?.finishedAt));
}

test("with a limit of 1, a user's builds run one after another, and another user's does not wait for them", async () => {
  const { mine, theirs } = await runBuilds({ MAX_CONCURRENT_BUILDS_PER_USER: "1" });
  expect([...mine, theirs].map((d) => d.status)).toEqual(["READY", "READY", "READY", "READY"]);
  expect(overlapping(mine)).toBe(false);
  // The other user's build, queued after all three, started while the busy user's were still going.
  const lastFinish =
    mine
      .map((d) => String(d.finishedAt))
      .sort()
      .at(-1) ?? "";
  expect(String(theirs.startedAt) < lastFinish).toBe(true);
}, 90_000);

test("without a limit (0) the same builds run side by side (the check above can fail)", async () => {
  const { mine } = await runBuilds({ MAX_CONCURRENT_BUILDS_PER_USER: "0" });
  expect(mine.map((d) => d.status)).toEqual(["READY", "READY", "READY"]);
  expect(overlapping(mine)).toBe(true);
}, 90_000);

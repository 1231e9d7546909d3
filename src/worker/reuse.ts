// Build reuse: a deployment made from exactly what an earlier READY deployment of its project was made from takes
// that one's output (a manifest naming the same content-addressed blobs) instead of building again.

import { createHash } from "node:crypto";
import type { BuildJob } from "../../builder/job.ts";
import { VERSION } from "../config/version.ts";
import { branchHead } from "../git/ls-remote.ts";
import type { Deployment, Project } from "../model/entities.ts";
import type { Logger } from "../observe/log.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Store } from "../store/store.ts";

export interface ReuseDeps {
  store: Store;
  artifacts: Artifacts;
  log: Logger;
}

/** System variables that name this one deployment: a build that bakes them in gets the earlier deployment's. */
const PER_DEPLOYMENT = new Set(["VERCEL_URL", "VERCEL_DEPLOYMENT_ID"]);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * What the build's source is, before building: the commit (the deployment's own, else the branch's head as
 * `git ls-remote` reads it now) or the digest of an uploaded tree. Null when it cannot be known, and nothing is
 * reused. A branch that moves between this look and the clone only costs a rebuild: the key names the commit.
 */
async function sourceOf(
  deps: ReuseDeps,
  deployment: Deployment,
  job: BuildJob,
): Promise<{ source: string; commitSha: string | null } | null> {
  if (job.source?.kind === "manifest") {
    const manifest = await deps.artifacts.getManifest(job.source.manifestId);
    if (!manifest) return null;
    const files = Object.entries(manifest.files)
      .map(([path, f]) => `${path}\0${f.hash}`)
      .sort();
    return { source: `upload:${sha256(files.join("\n"))}`, commitSha: null };
  }
  if (deployment.commitSha !== null) {
    // An abbreviated commit is resolved by the clone: only a full one names the source by itself.
    return /^[0-9a-f]{40}$/.test(deployment.commitSha)
      ? { source: `git:${deployment.commitSha}`, commitSha: deployment.commitSha }
      : null;
  }
  const head = await branchHead(job.gitUrl, job.branch ?? "main", {
    allowLocal: job.allowLocalGit,
    allowPrivate: job.allowPrivateGit ?? false,
  });
  return head ? { source: `git:${head}`, commitSha: head } : null;
}

/**
 * The build key: source, build settings, the project's variables for the target (as stored, sealed: the key is
 * no digest of a secret, and re-saving a variable counts as a change), the system variables that do not name the
 * deployment, and the minivercel version (a newer builder may build differently).
 */
export async function buildKey(
  store: Store,
  project: Project,
  job: BuildJob,
  source: string,
): Promise<string> {
  const target = job.target ?? "production";
  const variables = (await store.env.list(project.id))
    .filter((v) => v.targets.includes(target))
    .map((v) => [v.key, v.valueEncrypted])
    .sort(([a = ""], [b = ""]) => a.localeCompare(b));
  const system = Object.entries(job.system ?? {})
    .filter(([name]) => !PER_DEPLOYMENT.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  return sha256(
    JSON.stringify({
      v: 1,
      minivercel: VERSION,
      source,
      target,
      root: job.rootDirectory,
      install: job.installCommand,
      build: job.buildCommand,
      output: job.outputDirectory,
      start: job.startCommand ?? null,
      variables,
      system,
    }),
  );
}

/**
 * Records the deployment's build key and, when the project has a READY deployment with the same key whose
 * output is still stored, makes this deployment's manifest from it and publishes the log lines and READY. True
 * when it did (no builder runs); false to build as usual. Any trouble here means building, never failing.
 */
export async function reuseBuild(
  deps: ReuseDeps,
  deployment: Deployment,
  project: Project,
  job: BuildJob,
  publish: (events: unknown[]) => Promise<void>,
): Promise<boolean> {
  try {
    const found = await sourceOf(deps, deployment, job);
    if (!found) return false;
    const key = await buildKey(deps.store, project, job, found.source);
    const earlier = await deps.store.deployments.findBuilt(project.id, key);
    await deps.store.deployments.recordBuildKey(deployment.id, key);
    if (!earlier || earlier.id === deployment.id) return false;
    const manifest = await deps.artifacts.getManifest(earlier.id);
    if (!manifest) return false;
    // Refused when a blob is gone (collected meanwhile): then it builds.
    await deps.artifacts.putManifest({
      ...manifest,
      deploymentId: deployment.id,
      createdAt: new Date().toISOString(),
    });
    const at = new Date().toISOString();
    const what = found.commitSha ? `commit ${found.commitSha.slice(0, 12)}` : "uploaded source";
    const files = Object.keys(manifest.files).length;
    const lines = [
      `Reused build output of ${earlier.id}: same ${what}, build settings and environment variables (BUILD_REUSE)`,
      `Deployed ${files} file${files === 1 ? "" : "s"} of ${earlier.id} (nothing built or uploaded)`,
    ];
    await publish([
      ...lines.map((text, i) => ({
        type: "log",
        deploymentId: deployment.id,
        seq: i + 1,
        stream: "system",
        text,
        at,
      })),
      {
        type: "status",
        deploymentId: deployment.id,
        status: "READY",
        ...(found.commitSha && { commitSha: found.commitSha }),
        ...(earlier.commitMessage && { commitMessage: earlier.commitMessage }),
        ...(earlier.commitAuthor && { commitAuthor: earlier.commitAuthor }),
        at,
      },
    ]);
    return true;
  } catch (error) {
    deps.log.warn("launcher: could not reuse an earlier build; building", {
      deploymentId: deployment.id,
      error,
    });
    return false;
  }
}

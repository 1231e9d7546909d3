// Test support for the function runtime: a function stored in the artifact store as a build would leave it, and a
// Build Output API deployment stored as a build would store it.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { uploadBuildOutput } from "../../builder/build-output.ts";
import { changeStatus } from "../deploy/state.ts";
import type { Deps } from "../deps.ts";
import type { Deployment, Project } from "../model/entities.ts";
import type { Artifacts, ManifestFunction } from "../store/artifacts.ts";
import { tempDir } from "./deps.ts";

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Stores a function made of `files` (path -> source) with this .vc-config.json (Node.js, index.mjs by default). */
export async function storeFunction(
  artifacts: Pick<Artifacts, "putBlob">,
  files: Record<string, string>,
  config: Record<string, unknown> = {},
): Promise<ManifestFunction> {
  const vc = JSON.stringify({
    runtime: "nodejs20.x",
    handler: "index.mjs",
    launcherType: "Nodejs",
    ...config,
  });
  const out: ManifestFunction = { config: { hash: sha256(vc), size: Buffer.byteLength(vc) }, files: {} };
  await artifacts.putBlob(sha256(vc), new TextEncoder().encode(vc));
  for (const [path, source] of Object.entries(files)) {
    await artifacts.putBlob(sha256(source), new TextEncoder().encode(source));
    out.files[path] = { hash: sha256(source), size: Buffer.byteLength(source) };
  }
  return out;
}

/**
 * Stores `files` (paths inside `.vercel/output`: "config.json", "functions/api/x.func/index.mjs"...) as a READY
 * production deployment of `project` with the builder's own uploader, without running a build.
 */
export async function deployBuildOutput(
  deps: Deps,
  project: Project,
  files: Record<string, string>,
): Promise<Deployment> {
  const root = tempDir("minivercel-output-");
  const output = join(root, ".vercel/output");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(output, path)), { recursive: true });
    writeFileSync(join(output, path), content);
  }
  const created = await deps.store.deployments.create({
    projectId: project.id,
    userId: project.userId,
    status: "QUEUED",
    target: "production",
    branch: project.productionBranch,
    commitSha: null,
  });
  await changeStatus(deps, created.id, "IN_PROGRESS", null);
  await uploadBuildOutput(deps.artifacts, created.id, output, { within: root, log: () => {} });
  const ready = await changeStatus(deps, created.id, "READY", null);
  if (!ready) throw new Error("could not mark the deployment READY");
  return ready;
}

/** A `.vc-config.json` for a Node.js function whose handler is `handler`, with `more` fields. */
export const vcConfig = (handler = "index.mjs", more: Record<string, unknown> = {}): string =>
  JSON.stringify({ runtime: "nodejs20.x", handler, launcherType: "Nodejs", ...more });

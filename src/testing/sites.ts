// Test support for the proxy: projects and READY deployments made from files, without building anything
// (write the files, upload them as a build would, then IN_PROGRESS -> READY and announce the route change).

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { uploadOutput } from "../../builder/upload.ts";
import { createProject } from "../deploy/projects.ts";
import { changeStatus } from "../deploy/state.ts";
import type { Deps } from "../deps.ts";
import type { Deployment, Project, ProjectSettings } from "../model/entities.ts";
import type { SiteProxy } from "../proxy/proxy.ts";
import type { Manifest } from "../store/artifacts.ts";
import { tempDir } from "./deps.ts";

export async function siteProject(
  deps: Deps,
  userId: string,
  settings: Partial<ProjectSettings> = {},
): Promise<Project> {
  const name = `site-${crypto.randomUUID().slice(0, 8)}`;
  return createProject(deps.store, deps.config, userId, { name, subDomain: name, ...settings });
}

export interface DeployOptions {
  target?: "production" | "preview";
  branch?: string;
  /** name -> symlink target, created in the output directory before the upload. */
  symlinks?: Record<string, string>;
  /** Leave the deployment IN_PROGRESS (files stored, not READY). */
  notReady?: boolean;
}

/** Stores `files` as a deployment of `project` and makes it READY (production moves, as after a build). */
export async function deploySite(
  deps: Deps,
  project: Project,
  files: Record<string, string | Uint8Array>,
  options: DeployOptions = {},
): Promise<Deployment> {
  const root = tempDir("minivercel-site-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  for (const [name, target] of Object.entries(options.symlinks ?? {})) symlinkSync(target, join(root, name));
  const target = options.target ?? "production";
  const created = await deps.store.deployments.create({
    projectId: project.id,
    userId: project.userId,
    status: "QUEUED",
    target,
    branch: options.branch ?? (target === "production" ? project.productionBranch : "preview"),
    commitSha: null,
  });
  const running = await changeStatus(deps, created.id, "IN_PROGRESS", null);
  if (!running) throw new Error("could not start the deployment");
  await uploadOutput(deps.artifacts, created.id, root, { log: () => {} });
  if (options.notReady) return running;
  const ready = await changeStatus(deps, created.id, "READY", null);
  if (!ready) throw new Error("could not mark the deployment READY");
  return ready;
}

/**
 * Stores `files` (manifest path -> content) as a READY production deployment the way an older minivercel did,
 * without today's deploy-time checks (site-config.ts): for tests of how the proxy treats such deployments.
 */
export async function deployUnchecked(
  deps: Deps,
  project: Project,
  files: Record<string, string>,
): Promise<Deployment> {
  const created = await deps.store.deployments.create({
    projectId: project.id,
    userId: project.userId,
    status: "QUEUED",
    target: "production",
    branch: project.productionBranch,
    commitSha: null,
  });
  await changeStatus(deps, created.id, "IN_PROGRESS", null);
  const manifest: Manifest = {
    version: 1,
    deploymentId: created.id,
    createdAt: new Date().toISOString(),
    files: {},
  };
  for (const [path, content] of Object.entries(files)) {
    const bytes = new TextEncoder().encode(content);
    const hash = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    await deps.artifacts.putBlob(hash, bytes);
    manifest.files[path] = { hash, size: bytes.byteLength, type: Bun.file(path).type };
  }
  await deps.artifacts.putManifest(manifest);
  const ready = await changeStatus(deps, created.id, "READY", null);
  if (!ready) throw new Error("could not mark the deployment READY");
  return ready;
}

/** A GET (or other) request to the proxy for `url`, with the Host header a client would send. */
export function request(
  proxy: SiteProxy,
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
) {
  const host = new URL(url).host;
  return proxy.fetch(new Request(url, { ...init, headers: { host, ...init.headers } }));
}

/** Waits until `check` passes (or throws its last failure after `ms`). */
export async function eventually(check: () => Promise<void>, ms = 1000): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await check();
      return performance.now() - started;
    } catch (error) {
      if (performance.now() - started > ms) throw error;
      await Bun.sleep(5);
    }
  }
}

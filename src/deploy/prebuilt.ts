// Deploying uploaded files (CLI, API): a prebuilt site goes live from its manifest at once; an uploaded source
// tree is stored as a manifest of its own and queued for the builder, which builds it instead of cloning.

import { AppError, conflict, invalid } from "../errors.ts";
import type { Deployment, DeploymentTarget, Project } from "../model/entities.ts";
import { branchProblem } from "../model/settings.ts";
import { checkSiteConfig, MAX_CONFIG_BYTES, siteConfigRefusal } from "../proxy/site-config.ts";
import {
  type Artifacts,
  blobsOf,
  FORBIDDEN_NAME_CHARS,
  isManifestPath,
  isSha256,
  type Manifest,
  type ManifestFile,
} from "../store/artifacts.ts";
import type { Logs } from "../store/logs.ts";
import type { Store } from "../store/store.ts";
import { formatBytes } from "../utils/bytes.ts";
import { getProject } from "./access.ts";
import { emitDeploymentEvent } from "./events.ts";
import { precompress } from "./precompress.ts";
import { blobScope, missingFor } from "./scoped-blobs.ts";
import { changeStatus, type StateDeps, supersedeOlder } from "./state.ts";

const MB = 1024 * 1024;

/** Per deployment, the same as a build's output (builder/upload.ts). */
export const FILE_SET_LIMITS = { maxFiles: 20_000, maxFileBytes: 100 * MB, maxTotalBytes: 1024 * MB };

/** What a client sends per file; `type` defaults to the one the path's extension implies. */
export interface UploadedFile {
  hash: string;
  size: number;
  type?: string | undefined;
  gzip?: { hash: string; size: number } | undefined;
  br?: { hash: string; size: number } | undefined;
}

export interface FileSetDeployInput {
  projectId: string;
  files: Record<string, UploadedFile>;
  /** Default preview. A production deployment becomes the production pointer when READY. */
  target?: DeploymentTarget | undefined;
  /** Default: the production branch for production, none for a preview. */
  branch?: string | undefined;
}

export type UploadDeps = StateDeps & { artifacts: Artifacts; logs: Logs };

/** System lines opening the deployment's log, so its history says where its files came from. */
async function note(deps: UploadDeps, deploymentId: string, texts: string[]): Promise<void> {
  const at = new Date().toISOString();
  const lines = texts.map((text, i) => ({ deploymentId, seq: i + 1, stream: "system" as const, text, at }));
  await deps.logs.append(lines);
  for (const line of lines) deps.live.publish(deploymentId, { kind: "log", line });
}

function describeSet(files: Record<string, ManifestFile>): string {
  const list = Object.values(files);
  return `${list.length} files (${formatBytes(list.reduce((sum, f) => sum + f.size, 0))})`;
}

/** The key of a deployment's uploaded source tree in the artifact store (beside its output manifest). */
export function sourceManifestId(deploymentId: string): string {
  return `source-${deploymentId}`;
}

const mb = (n: number) => (n >= 1024 * MB ? `${Math.round(n / MB / 1024)} GB` : `${Math.round(n / MB)} MB`);

/** Validates a client's file set against the limits; returns manifest entries. Throws 413/422 AppErrors. */
export function checkFileSet(
  files: Record<string, UploadedFile>,
  limits = FILE_SET_LIMITS,
): Record<string, ManifestFile> {
  const paths = Object.keys(files);
  if (paths.length === 0) throw invalid("the deployment has no files", "files");
  if (paths.length > limits.maxFiles) {
    throw new AppError(
      "payload_too_large",
      `a deployment may have at most ${limits.maxFiles} files (this one has ${paths.length})`,
      "files",
    );
  }
  let total = 0;
  const out: Record<string, ManifestFile> = {};
  for (const path of paths) {
    const file = files[path];
    if (!file) continue;
    const shown = JSON.stringify(path).slice(0, 200);
    if (!isManifestPath(path))
      throw invalid(
        `file path ${shown} is not allowed (it must start with "/" and have no "." or ".." parts)`,
      );
    if (!isSha256(file.hash)) throw invalid(`file ${shown} has a bad hash (64 lowercase hex digits)`);
    if (!Number.isSafeInteger(file.size) || file.size < 0) throw invalid(`file ${shown} has a bad size`);
    if (file.size > limits.maxFileBytes)
      throw new AppError(
        "payload_too_large",
        `file ${shown} is over ${mb(limits.maxFileBytes)}, the limit per file`,
      );
    total += file.size;
    if (total > limits.maxTotalBytes) {
      throw new AppError(
        "payload_too_large",
        `the files add up to more than ${mb(limits.maxTotalBytes)}, the limit per deployment`,
      );
    }
    const type = file.type?.trim() || Bun.file(path).type || "application/octet-stream";
    if (FORBIDDEN_NAME_CHARS.test(type)) throw invalid(`file ${shown} has a bad content type`);
    for (const variant of [file.gzip, file.br]) {
      if (variant && (!isSha256(variant.hash) || !Number.isSafeInteger(variant.size) || variant.size < 0))
        throw invalid(`file ${shown} has a bad compressed variant`);
    }
    out[path] = {
      hash: file.hash,
      size: file.size,
      type,
      ...(file.gzip && { gzip: file.gzip }),
      ...(file.br && { br: file.br }),
    };
  }
  return out;
}

/**
 * Every file must have been uploaded before a deployment may name it, by the project's scope or by the caller
 * (whose uploads are their own: a team member deploying files they uploaded): a blob stored for anyone else
 * counts as not uploaded (src/deploy/scoped-blobs.ts). The project's scope then holds them too.
 */
async function requireStored(
  store: Store,
  artifacts: Artifacts,
  project: Project,
  callerId: string,
  files: Record<string, ManifestFile>,
): Promise<void> {
  const hashes = Object.values(files).flatMap((f) => blobsOf(f).map((b) => b.hash));
  const scope = blobScope(project);
  const ofScope = await missingFor(store, artifacts, scope, hashes);
  const missing =
    ofScope.length === 0 || callerId === scope
      ? ofScope
      : await missingFor(store, artifacts, callerId, ofScope);
  if (missing.length === 0 && ofScope.length > 0) await store.blobClaims.add(scope, ofScope);
  if (missing.length > 0) {
    throw conflict(
      `${missing.length} of the deployment's files are not uploaded yet (upload them with PUT /api/files/:hash first)`,
      "files",
    );
  }
}

async function prepare(store: Store, userId: string, input: FileSetDeployInput) {
  const project = await getProject(store, userId, input.projectId, "write");
  const target = input.target ?? "preview";
  const branch = input.branch ?? (target === "production" ? project.productionBranch : null);
  if (branch !== null) {
    const problem = branchProblem(branch);
    if (problem) throw invalid(`branch ${problem}`, "branch");
  }
  return { project, target, branch };
}

/** Ends a deployment that could not be set up as FAIL, so nothing is left half-made; rethrows. */
async function failWith(deps: UploadDeps, deployment: Deployment, error: unknown): Promise<never> {
  const reason =
    error instanceof AppError ? error.message : "the files could not be stored (see the server log)";
  await changeStatus(deps, deployment.id, "FAIL", reason);
  if (error instanceof AppError && error.code === "bad_request") throw conflict(reason, "files");
  throw error;
}

/**
 * Deploys an already-uploaded, already-built file set: the row is created NOT_STARTED (invisible to build
 * launchers and reapers), the manifest stored, then IN_PROGRESS -> READY, never passing through the build
 * queue. Any failure ends the deployment FAIL with the reason.
 */
export async function deployFileSet(
  deps: UploadDeps,
  userId: string,
  input: FileSetDeployInput,
): Promise<{ deployment: Deployment; project: Project }> {
  const { store, artifacts } = deps;
  const { project, target, branch } = await prepare(store, userId, input);
  const files = checkFileSet(input.files);
  await requireStored(store, artifacts, project, userId, files);
  const config = await checkSiteConfig(async (name) => {
    const file = files[`/${name}`];
    if (!file) return null;
    const blob = file.size > MAX_CONFIG_BYTES ? null : await artifacts.getBlob(file.hash);
    return { size: file.size, text: (await blob?.text()) ?? "" };
  });
  const refused = siteConfigRefusal(config);
  if (refused) throw invalid(refused, "files");
  // Before the deployment exists: a failure here leaves nothing behind.
  const production = project.productionDeploymentId
    ? await artifacts.getManifest(project.productionDeploymentId)
    : null;
  const compressed = await precompress(deps, blobScope(project), files, production?.files ?? null);
  const created = await store.deployments.create({
    projectId: project.id,
    userId,
    status: "NOT_STARTED",
    target,
    branch,
    commitSha: null,
  });
  await emitDeploymentEvent(store, "deployment.created", created);
  await note(deps, created.id, [
    `Prebuilt deployment of ${describeSet(files)}, uploaded through the API`,
    ...(compressed.summary ? [compressed.summary] : []),
    ...config.warnings.map((warning) => `warning: ${warning}`),
  ]);
  const manifest: Manifest = {
    version: 1,
    deploymentId: created.id,
    createdAt: new Date().toISOString(),
    files: compressed.files,
  };
  try {
    await artifacts.putManifest(manifest);
  } catch (error) {
    return failWith(deps, created, error);
  }
  const running = await changeStatus(deps, created.id, "IN_PROGRESS", null);
  const ready = running ? await changeStatus(deps, created.id, "READY", null) : null;
  const current = ready ?? (await store.deployments.find(created.id)) ?? created;
  if (current.status === "FAIL" || current.status === "CANCELED") await artifacts.deleteManifest(created.id);
  return { deployment: current, project: (await store.projects.find(project.id)) ?? project };
}

/**
 * Queues a build of an uploaded source tree: its manifest is stored under sourceManifestId(id), then the
 * deployment is QUEUED like a git deployment; the builder materializes the tree instead of cloning.
 */
export async function queueSourceBuild(
  deps: UploadDeps,
  userId: string,
  input: FileSetDeployInput,
): Promise<{ deployment: Deployment; project: Project }> {
  const { store, artifacts } = deps;
  const { project, target, branch } = await prepare(store, userId, input);
  const files = checkFileSet(input.files);
  await requireStored(store, artifacts, project, userId, files);
  const created = await store.deployments.create({
    projectId: project.id,
    userId,
    status: "NOT_STARTED",
    target,
    branch,
    commitSha: null,
  });
  await emitDeploymentEvent(store, "deployment.created", created);
  const manifest: Manifest = {
    version: 1,
    deploymentId: sourceManifestId(created.id),
    createdAt: new Date().toISOString(),
    files,
  };
  try {
    await artifacts.putManifest(manifest);
  } catch (error) {
    return failWith(deps, created, error);
  }
  const queued = await changeStatus(deps, created.id, "QUEUED", null);
  // A newer upload of the same branch wins over one still waiting, as with git pushes.
  if (queued) await supersedeOlder(deps, queued);
  return { deployment: queued ?? created, project };
}

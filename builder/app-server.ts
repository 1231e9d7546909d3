// Build step "upload" for app servers: which server the build left (the project's start command, Next.js standalone,
// Nuxt/Nitro's node-server, a Procfile `web:` line or a `start` script), then its files as blobs and the static
// files the proxy serves itself (public/, Next's .next/static), then the manifest with its `server`.

import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../src/errors.ts";
import {
  type Artifacts,
  assertDeploymentId,
  type FunctionFile,
  type Manifest,
} from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { hashAll, storeMissing, storeVariants } from "./blobs.ts";
import { plural } from "./build-output.ts";
import { realDirInside } from "./contained.ts";
import type { StartCandidate } from "./detect.ts";
import { type CollectedFile, collectOutput } from "./upload.ts";
import { budget, DEFAULT_UPLOAD_LIMITS, type UploadLimits, walk } from "./walk.ts";

/** A server to deploy: its directory (relative to the project), how to start it there, what the proxy serves. */
export interface ServerChoice {
  /** "" = the project itself. */
  root: string;
  command: string;
  detected: string;
  /** Directories (relative to the project) whose files the proxy serves at `prefix` without asking the server. */
  statics: { dir: string; prefix: string }[];
}

/** Never part of a server's files: version control, and the build caches frameworks leave behind. */
const NOT_SERVED = new Set([".git", ".hg", ".svn"]);
const CACHES = new Set(["/.next/cache", "/node_modules/.cache"]);

async function isFile(path: string): Promise<boolean> {
  return lstat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

const PUBLIC = { dir: "public", prefix: "/" };
const MISSING = "missing";

/**
 * The server of a built project, or null for a static or Build Output deployment. The project's start command
 * wins; then what a framework wrote; then the project's Procfile or start script (`candidate`, see detect.ts),
 * which with `withoutOutput` applies only when the build left no output directory.
 */
export async function chooseServer(
  project: string,
  opts: {
    startCommand: string | null;
    candidate: StartCandidate | null;
    hasBuildOutput: boolean;
    hasOutputDirectory: () => Promise<boolean>;
  },
): Promise<ServerChoice | null> {
  if (opts.startCommand)
    return {
      root: "",
      command: opts.startCommand,
      detected: "the project's start command",
      statics: [PUBLIC],
    };
  if (opts.hasBuildOutput) return null;
  if (await isFile(join(project, ".next", "standalone", "server.js")))
    return {
      root: ".next/standalone",
      command: "node server.js",
      detected: "Next.js standalone output (node .next/standalone/server.js)",
      statics: [
        { dir: ".next/static", prefix: "/_next/static/" },
        { dir: "public", prefix: "/" },
      ],
    };
  if (await isFile(join(project, ".output", "server", "index.mjs")))
    return {
      root: ".output",
      command: "node server/index.mjs",
      detected: "Nuxt/Nitro node-server output (node .output/server/index.mjs)",
      statics: [{ dir: ".output/public", prefix: "/" }],
    };
  const { candidate } = opts;
  if (candidate && (!candidate.withoutOutput || !(await opts.hasOutputDirectory())))
    return { root: "", command: candidate.command, detected: candidate.reason, statics: [PUBLIC] };
  return null;
}

/**
 * Deploys `choice` from `project` (a real path inside `within`, the checkout): the server's files, the static
 * files beside it, then the version 2 manifest. Held to the deployment's limits like any output.
 */
export async function uploadServer(
  artifacts: Artifacts,
  deploymentId: string,
  project: string,
  choice: ServerChoice,
  opts: { within: string; log: (message: string) => void; limits?: UploadLimits },
): Promise<{ files: number; serverFiles: number; uploaded: number }> {
  assertDeploymentId(deploymentId);
  const limits = opts.limits ?? DEFAULT_UPLOAD_LIMITS;
  const counted = budget(limits, "the deployment (the server and its static files)");
  const root = await realDirInside(opts.within, project, choice.root || null, "the server directory");
  let skipped = 0;
  const found = await walk(root, counted, {
    boundary: opts.within,
    boundaryName: "the repository",
    skip: (path, name) => NOT_SERVED.has(name) || CACHES.has(path),
    problem: (message) => {
      skipped += 1;
      if (skipped <= 20) opts.log(`warning: server files: skipped ${message}`);
    },
  });
  const serverFiles = await hashAll(found);
  const statics: CollectedFile[] = [];
  const seen = new Set<string>();
  for (const { dir, prefix } of choice.statics) {
    const real = await realDirInside(opts.within, project, dir, "a static directory", MISSING).catch(
      (error: unknown) => {
        if (error instanceof AppError && error.message === MISSING) return null;
        throw error;
      },
    );
    if (real === null) continue;
    const files = await collectOutput(
      real,
      limits,
      (m) => opts.log(`warning: ${dir}: ${m}`),
      opts.within,
      counted,
    );
    for (const file of files) {
      const path = `${prefix.replace(/\/$/, "")}${file.path}`;
      if (seen.has(path)) continue;
      seen.add(path);
      statics.push({ ...file, path });
    }
  }
  opts.log(
    `App server: ${choice.detected}; ${plural(serverFiles.length, "server file")} in ${choice.root || "the project"}, ${plural(statics.length, "static file")} served by the proxy (${formatBytes(counted.bytes)})`,
  );
  const stored = await storeMissing(artifacts, [...serverFiles, ...statics], opts.log);
  const variants = await storeVariants(artifacts, statics, opts.log);
  const files: Record<string, FunctionFile> = {};
  for (const f of serverFiles)
    files[f.path.slice(1)] = { hash: f.hash, size: f.size, ...(f.executable && { executable: true }) };
  const manifest: Manifest = {
    version: 2,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(
      statics.map((f) => [f.path, { hash: f.hash, size: f.size, type: f.type, ...variants.get(f.hash) }]),
    ),
    server: { command: choice.command, detected: choice.detected, files },
  };
  await artifacts.putManifest(manifest);
  opts.log(`stored the manifest of the app server (${choice.command})`);
  return { files: statics.length, serverFiles: serverFiles.length, uploaded: stored.uploaded };
}

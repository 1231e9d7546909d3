// Build step "upload" for Build Output API v3 deployments (`.vercel/output/`): static/ becomes the served files,
// config.json (checked by the router's own parser) and every function's files become blobs, then the manifest.
// (https://vercel.com/docs/build-output-api)

import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { badRequest } from "../src/errors.ts";
import { parseBuildOutputConfig } from "../src/proxy/build-output/config.ts";
import {
  type Artifacts,
  assertDeploymentId,
  type FunctionFile,
  type Manifest,
  type ManifestFunction,
} from "../src/store/artifacts.ts";
import { formatBytes } from "../src/utils/bytes.ts";
import { type BlobSource, storeMissing, storeVariants } from "./blobs.ts";
import { realDirInside } from "./contained.ts";
import { type CollectedFunction, collectFunctions, readInside } from "./functions.ts";
import { collectOutput } from "./upload.ts";
import { budget, DEFAULT_UPLOAD_LIMITS, type UploadLimits } from "./walk.ts";

/** Where a project keeps its Build Output, relative to its root directory. */
export const BUILD_OUTPUT_DIR = ".vercel/output";
/** config.json of a large framework app (many routes) stays far below this. */
const MAX_CONFIG_JSON_BYTES = 8 * 1024 * 1024;

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "12 static files, 2 functions (nodejs20.x), 1 prerendered": what the build log says was found. */
export function describeBuildOutput(staticFiles: number, functions: readonly CollectedFunction[]): string {
  const runtimes = [...new Set(functions.map((f) => f.parsed.runtime))].sort();
  const prerendered = functions.filter((f) => f.prerender).length;
  return [
    plural(staticFiles, "static file"),
    `${plural(functions.length, "function")}${runtimes.length > 0 ? ` (${runtimes.join(", ")})` : ""}`,
    ...(prerendered > 0 ? [`${prerendered} prerendered`] : []),
  ].join(", ");
}

const configSource = (c: { path: string; bytes: Uint8Array; hash: string; size: number }): BlobSource => c;

/**
 * Deploys `output` (the real path of a project's .vercel/output, inside `within`, the checkout's real path):
 * refuses what cannot be served or run (naming it), stores only missing blobs, then the version 2 manifest.
 */
export async function uploadBuildOutput(
  artifacts: Artifacts,
  deploymentId: string,
  output: string,
  opts: { within: string; log: (message: string) => void; limits?: UploadLimits },
): Promise<{ files: number; functions: number; uploaded: number; summary: string }> {
  assertDeploymentId(deploymentId);
  const limits = opts.limits ?? DEFAULT_UPLOAD_LIMITS;
  const counted = budget(limits, "the deployment (static files and functions)");

  const config = await readInside(join(output, "config.json"), output, "config.json", MAX_CONFIG_JSON_BYTES);
  const { config: parsed, problems } = parseBuildOutputConfig(new TextDecoder().decode(config.bytes));
  for (const p of problems) if (p.severity === "warning") opts.log(`warning: config.json: ${p.message}`);
  const errors = problems.filter((p) => p.severity === "error").map((p) => p.message);
  if (errors.length > 0) throw badRequest(`${BUILD_OUTPUT_DIR}/config.json: ${errors.join("; ")}`);

  // static/ may be a symlink (to the project's output directory, say), but not out of the checkout.
  const staticFiles = (await exists(join(output, "static")))
    ? await collectOutput(
        await realDirInside(opts.within, output, "static", `${BUILD_OUTPUT_DIR} directory`),
        limits,
        (m) => opts.log(`warning: static/: ${m}`),
        opts.within,
        counted,
      )
    : [];
  const functions = (await exists(join(output, "functions")))
    ? await collectFunctions(
        await realDirInside(output, output, "functions", `${BUILD_OUTPUT_DIR} directory`),
        {
          output,
          checkout: opts.within,
          counted,
          log: opts.log,
        },
      )
    : [];
  for (const name of ["_redirects", "_headers"])
    if (staticFiles.some((f) => f.path === `/${name}`))
      opts.log(
        `warning: static/${name} is served as a file: a Build Output's rules are the routes of config.json`,
      );
  if (staticFiles.length === 0 && functions.length === 0)
    throw badRequest(`${BUILD_OUTPUT_DIR} has no static files and no functions to deploy`);
  const summary = describeBuildOutput(staticFiles.length, functions);
  opts.log(`Build Output API: ${summary}`);
  const crons = parsed?.crons ?? [];
  for (const cron of crons) opts.log(`cron job: GET ${cron.path} at "${cron.schedule}" (UTC) on production`);

  const sources: BlobSource[] = [configSource(config), ...staticFiles];
  for (const fn of functions) {
    sources.push(configSource(fn.config), ...fn.files);
    if (fn.prerender) sources.push(configSource(fn.prerender));
    if (fn.fallback) sources.push(fn.fallback);
  }
  opts.log(`collected ${counted.files} files (${formatBytes(counted.bytes)})`);
  const stored = await storeMissing(artifacts, sources, opts.log);
  const served = [...staticFiles, ...functions.flatMap((f) => (f.fallback ? [f.fallback] : []))];
  const variants = await storeVariants(artifacts, served, opts.log);

  const manifestFunctions: Record<string, ManifestFunction> = {};
  for (const fn of functions) {
    const files: Record<string, FunctionFile> = {};
    for (const f of fn.files)
      files[f.name] = { hash: f.hash, size: f.size, ...(f.executable && { executable: true }) };
    manifestFunctions[fn.path] = {
      config: { hash: fn.config.hash, size: fn.config.size },
      ...(fn.prerender && { prerender: { hash: fn.prerender.hash, size: fn.prerender.size } }),
      ...(fn.fallback && {
        fallback: {
          hash: fn.fallback.hash,
          size: fn.fallback.size,
          type: fn.fallback.type,
          ...variants.get(fn.fallback.hash),
        },
      }),
      files,
    };
  }
  const manifest: Manifest = {
    version: 2,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(
      staticFiles.map((f) => [f.path, { hash: f.hash, size: f.size, type: f.type, ...variants.get(f.hash) }]),
    ),
    buildOutput: {
      config: { hash: config.hash, size: config.size },
      ...(crons.length > 0 && { crons }),
    },
    functions: manifestFunctions,
  };
  await artifacts.putManifest(manifest);
  opts.log(
    `stored the manifest of ${plural(staticFiles.length, "static file")} and ${plural(functions.length, "function")}`,
  );
  return { files: staticFiles.length, functions: functions.length, uploaded: stored.uploaded, summary };
}

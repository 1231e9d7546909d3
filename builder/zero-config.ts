// Zero-config functions: a project's `api/` files become Build Output API functions, as `vercel build` makes them.
// Each is bundled with its imports (node_modules included) by the platform's own binary acting as bun, INSIDE the
// build sandbox (bundling runs the project's code: macros, plugins), which also writes .vercel/output with the
// static files, each function's .vc-config.json and the routes; the host then deploys it like any Build Output.

import { lstat, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { badRequest } from "../src/errors.ts";
import { parseBuildOutputConfig } from "../src/proxy/build-output/config.ts";
import { platformBinary, runSandboxed, SANDBOX_BUN_DIR, visiblePath } from "../src/sandbox/sandbox.ts";
import { type ApiFunction, apiFunctions, apiRoutes } from "./api-routes.ts";
import { realDirInside } from "./contained.ts";
import { readInside } from "./functions.ts";
import type { BuildJob } from "./job.ts";

/** Directories under api/ past this many entries are not scanned on: a functions folder is small. */
const MAX_API_ENTRIES = 20_000;
/** The runtime the functions are labelled with; bundles target Bun, which the runtime runs them on. */
export const ZERO_CONFIG_RUNTIME = "nodejs20.x";

/** The module files under the project's `api/` (regular files, real directories; no symlinks followed). */
export async function listApiFiles(checkout: string, project: string): Promise<string[]> {
  if (!(await lstat(join(project, "api")).catch(() => null))) return [];
  const root = await realDirInside(checkout, project, "api", "the functions directory");
  const files: string[] = [];
  let entries = 0;
  const descend = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      entries += 1;
      if (entries > MAX_API_ENTRIES) throw badRequest(`api/ has more than ${MAX_API_ENTRIES} entries`);
      const rel = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        // Helpers (_lib), dot folders and dependencies hold no endpoints.
        if (!/^[_.]/.test(entry.name) && entry.name !== "node_modules")
          await descend(join(dir, entry.name), rel);
      } else if (entry.isFile()) files.push(rel);
    }
  };
  await descend(root, "api");
  return files.sort();
}

/**
 * `.vc-config.json` of a zero-config function, as Vercel's Node builder writes it: the Node.js launcher, with
 * its request helpers unless the project sets NODEJS_HELPERS=0, and source maps (the bundle has index.mjs.map).
 */
export function zeroConfigVcConfig(env: Record<string, string>): string {
  return JSON.stringify({
    runtime: ZERO_CONFIG_RUNTIME,
    handler: "index.mjs",
    launcherType: "Nodejs",
    shouldAddHelpers: env.NODEJS_HELPERS !== "0",
    shouldAddSourcemapSupport: true,
  });
}

// Runs in the sandbox, in the project's directory. Arguments: bun static-mode static-link config.json, then for
// each function: source file, path under functions/, .vc-config.json. User input arrives only as arguments.
// A plain static site's root is copied without what Vercel never serves from it: api/, dependencies, package
// manager files, vercel.json, README.md and dot files (.well-known excepted; .env files above all).
const ASSEMBLE = `set -eu
bun=$1 mode=$2 link=$3 config=$4
shift 4
out=.vercel/output
if [ -L .vercel ] || { [ -e .vercel ] && [ ! -d .vercel ]; }; then rm -f .vercel; fi
rm -rf "$out"
mkdir -p "$out/functions"
printf '%s' "$config" >"$out/config.json"
case $mode in
root)
  mkdir "$out/static"
  for f in * .well-known; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case $f in
    api | node_modules | package.json | package-lock.json | npm-shrinkwrap.json | yarn.lock | pnpm-lock.yaml | \\
      bun.lock | bun.lockb | vercel.json | middleware.js | middleware.ts | README.md) continue ;;
    esac
    cp -a -- "$f" "$out/static/" || exit 21
  done
  ;;
link) ln -s -- "$link" "$out/static" ;;
esac
while [ $# -ge 3 ]; do
  dir="$out/functions/$2.func"
  mkdir -p -- "$dir"
  echo "Bundling $1 -> $2"
  "$bun" build --target=bun --format=esm --sourcemap=linked --outdir="$dir" --entry-naming=index.mjs -- "./$1" || exit 30
  printf '%s' "$3" >"$dir/.vc-config.json"
  shift 3
done`;

export interface AssembleRun {
  job: BuildJob;
  /** Real paths: the checkout, the project's root, its static output directory. */
  checkout: string;
  project: string;
  outputDir: string;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput: (stream: "stdout" | "stderr", text: string) => void;
  log: (message: string) => void;
}

/** A function file larger than this is not read for its settings (it still deploys, with the defaults). */
const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

/** A zero-config function's own settings, as Vercel reads them from its source without running it. */
export interface SourceConfig {
  runtime: "nodejs" | "edge";
  maxDuration?: number;
}

/**
 * Reads `export const config = { runtime, maxDuration }` (and Next's `export const runtime = "edge"`,
 * `export const maxDuration = 30`) from a function's source text, as Vercel's static analysis does: literal
 * values only, nothing run. Returns why when a value cannot be honoured.
 */
export function sourceConfig(source: string, file: string): SourceConfig | string {
  const block = /export\s+const\s+config\b[^=]*=\s*\{([\s\S]*?)\}/.exec(source)?.[1] ?? "";
  const runtime =
    /\bruntime\s*:\s*["'`]([\w.-]+)["'`]/.exec(block)?.[1] ??
    /export\s+const\s+runtime\b[^=]*=\s*["'`]([\w.-]+)["'`]/.exec(source)?.[1];
  const duration =
    /\bmaxDuration\s*:\s*(\d+)\b/.exec(block)?.[1] ??
    /export\s+const\s+maxDuration\b[^=]*=\s*(\d+)\b/.exec(source)?.[1];
  const out: SourceConfig = { runtime: "nodejs" };
  if (runtime === "edge" || runtime === "experimental-edge") out.runtime = "edge";
  else if (runtime !== undefined && runtime !== "nodejs")
    return `${file}: runtime "${runtime}" is not supported (edge or nodejs)`;
  if (duration !== undefined) {
    const seconds = Number(duration);
    if (seconds < 1 || seconds > 900) return `${file}: maxDuration ${seconds} is outside 1-900 seconds`;
    out.maxDuration = seconds;
  }
  return out;
}

/** The `.vc-config.json` of each function, from its source's settings (read on the host: inside the checkout). */
async function functionConfigs(
  functions: readonly ApiFunction[],
  run: Pick<AssembleRun, "checkout" | "project" | "job" | "log">,
): Promise<string[] | string> {
  const configs: string[] = [];
  for (const fn of functions) {
    let settings: SourceConfig | string = { runtime: "nodejs" };
    try {
      const { bytes } = await readInside(join(run.project, fn.file), run.checkout, fn.file, MAX_SOURCE_BYTES);
      settings = sourceConfig(new TextDecoder().decode(bytes), fn.file);
    } catch (error) {
      run.log(
        `warning: ${fn.file}: not read for its settings (${(error as Error).message}); the defaults apply`,
      );
    }
    if (typeof settings === "string") return settings;
    if (settings.runtime === "edge") {
      configs.push(JSON.stringify({ runtime: "edge", entrypoint: "index.mjs" }));
      run.log(`Function ${fn.path}: edge runtime`);
    } else {
      const base = JSON.parse(zeroConfigVcConfig(run.job.env)) as Record<string, unknown>;
      configs.push(
        JSON.stringify({
          ...base,
          ...(settings.maxDuration !== undefined && { maxDuration: settings.maxDuration }),
        }),
      );
    }
  }
  return configs;
}

/** vercel.json is a few KB; a larger one is refused rather than read. */
const MAX_VERCEL_JSON_BYTES = 1024 * 1024;

/**
 * The `crons` of the project's vercel.json (read on the host, so through readInside: never out of the checkout),
 * for config.json, whose parser then checks them as it checks an adapter's. Other keys configure what
 * minivercel's own settings and files do (rewrites: _redirects, headers: _headers): the log says they are ignored.
 * A vercel.json that is not a JSON object is a build error (its message), as on Vercel.
 */
export async function vercelJsonCrons(
  checkout: string,
  project: string,
  log: (message: string) => void,
): Promise<unknown[] | string> {
  const path = join(project, "vercel.json");
  if (!(await lstat(path).catch(() => null))) return [];
  let value: unknown;
  try {
    const { bytes } = await readInside(path, checkout, "vercel.json", MAX_VERCEL_JSON_BYTES);
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return `vercel.json: ${error instanceof SyntaxError ? `not valid JSON (${error.message})` : (error as Error).message}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "vercel.json: must be a JSON object";
  const { crons, $schema: _, ...rest } = value as Record<string, unknown>;
  const ignored = Object.keys(rest);
  if (ignored.length > 0)
    log(`warning: vercel.json: ${ignored.join(", ")} not supported here and ignored (only crons is read)`);
  if (crons === undefined) return [];
  // Checked here so that a mistake is named where the user made it.
  const { problems } = parseBuildOutputConfig(JSON.stringify({ version: 3, crons }));
  const errors = problems.filter((p) => p.severity === "error").map((p) => p.message);
  if (errors.length > 0) return `vercel.json: ${errors.join("; ")}`;
  return crons as unknown[];
}

/**
 * Writes `<project>/.vercel/output` for `functions` in the build sandbox. Returns null on success, else why the
 * step failed (for the deployment's reason); throws only when the sandbox itself could not run.
 */
export async function assembleBuildOutput(
  functions: readonly ApiFunction[],
  run: AssembleRun,
): Promise<string | null> {
  const isRoot = run.outputDir === run.project;
  const has404 = (await lstat(join(run.outputDir, "404.html")).catch(() => null))?.isFile() ?? false;
  const crons = await vercelJsonCrons(run.checkout, run.project, run.log);
  if (typeof crons === "string") return crons;
  const config = JSON.stringify(
    { version: 3, routes: apiRoutes(functions, has404), ...(crons.length > 0 && { crons }) },
    null,
    2,
  );
  const link = relative(join(run.project, ".vercel", "output"), run.outputDir);
  const bun = platformBinary();
  for (const fn of functions) run.log(`Function ${fn.path} <- ${fn.file}`);
  const vcConfigs = await functionConfigs(functions, run);
  if (typeof vcConfigs === "string") return vcConfigs;
  const { job } = run;
  const result = await runSandboxed({
    mode: job.sandbox,
    ...(job.sandboxPath !== undefined && { helperPath: job.sandboxPath }),
    workspace: run.checkout,
    cwd: relative(run.checkout, run.project),
    command: ASSEMBLE,
    args: [
      visiblePath(job.sandbox, bun),
      isRoot ? "root" : "link",
      link,
      config,
      ...functions.flatMap((fn, i) => [fn.file, fn.path.slice(1), vcConfigs[i] ?? ""]),
    ],
    env: {
      ...job.env,
      PATH: `${job.sandbox === "bwrap" ? SANDBOX_BUN_DIR : join(bun.source, "..")}:/usr/local/bin:/usr/bin:/bin`,
      BUN_BE_BUN: "1",
      NO_COLOR: "1",
    },
    readOnly: job.sandbox === "bwrap" ? [bun] : [],
    // Bundling needs nothing from the network: the install step already fetched the dependencies.
    network: "none",
    limits: {
      memoryBytes: job.limits.memoryMb * 1024 * 1024,
      pids: job.limits.pids,
      timeoutMs: run.timeoutMs,
    },
    onOutput: run.onOutput,
    signal: run.signal,
  });
  if (result.canceled) return "bundling the functions was canceled";
  if (result.timedOut) return `build timed out after ${Math.round(job.limits.timeoutMs / 1000)} s`;
  if (result.memoryExceeded)
    return `bundling the functions ran out of memory (limit ${job.limits.memoryMb} MB)`;
  if (result.exitCode === 30) return "bundling a function failed (see the build log)";
  if (result.exitCode !== 0)
    return `writing .vercel/output failed with exit code ${result.exitCode ?? "unknown"}`;
  return null;
}

/** The zero-config functions of the project (none when api/ has no function files). */
export async function findApiFunctions(checkout: string, project: string): Promise<ApiFunction[]> {
  return apiFunctions(await listApiFiles(checkout, project));
}

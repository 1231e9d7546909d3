// Build step, first move: read a checked-out project (never run it) and decide how to install, build and serve it.

import { join } from "node:path";
import { badRequest } from "../src/errors.ts";
import {
  exists,
  type Listing,
  listDir,
  MAX_CONFIG_BYTES,
  type Manifest,
  readConfig,
  readHead,
  readManifest,
} from "./detect-files.ts";
import { detectPackageManager, EXEC, type PackageManager, RUN } from "./package-manager.ts";

/** "node": a package.json with a build script but no framework we know. */
export type Framework =
  | "vite"
  | "create-react-app"
  | "nextjs"
  | "astro"
  | "sveltekit"
  | "docusaurus"
  | "static"
  | "node";

/** The project's own settings; each non-null value replaces what detection found. */
export interface BuildOverrides {
  installCommand: string | null;
  buildCommand: string | null;
  outputDirectory: string | null;
}

export interface BuildPlan {
  framework: Framework;
  /** null for a plain static site without package.json. */
  packageManager: PackageManager | null;
  /** null = nothing to install. */
  installCommand: string | null;
  /** null = nothing to build. */
  buildCommand: string | null;
  /** Relative to the project dir; "" = the dir itself. */
  outputDirectory: string;
  /** Human-readable lines for the build log. */
  notes: string[];
  /**
   * A server the project says how to start (a Procfile `web:` line, a package.json `start` script), run as an app
   * server after the build when nothing else is deployable: with `withoutOutput`, only when the build left no
   * output directory (a build script whose output is a server); without, always (no build, no index.html).
   */
  startCandidate: StartCandidate | null;
}

export interface StartCandidate {
  command: string;
  reason: string;
  withoutOutput: boolean;
}

interface FrameworkRule {
  id: Framework;
  name: string;
  pkg: string;
  output: string;
  /** The framework's own CLI, used when package.json has no "build" script. */
  cli: string;
}

// Meta-frameworks first: they all depend on vite or react themselves.
const META: FrameworkRule[] = [
  { id: "nextjs", name: "Next.js", pkg: "next", output: "out", cli: "next build" },
  { id: "astro", name: "Astro", pkg: "astro", output: "dist", cli: "astro build" },
  { id: "sveltekit", name: "SvelteKit", pkg: "@sveltejs/kit", output: "build", cli: "vite build" },
  { id: "docusaurus", name: "Docusaurus", pkg: "@docusaurus/core", output: "build", cli: "docusaurus build" },
];
const CRA: FrameworkRule = {
  id: "create-react-app",
  name: "Create React App",
  pkg: "react-scripts",
  output: "build",
  cli: "react-scripts build",
};
const VITE: FrameworkRule = { id: "vite", name: "Vite", pkg: "vite", output: "dist", cli: "vite build" };

/** The frameworks detection recognizes and where each writes its site (the dashboard offers them as presets). */
export const KNOWN_FRAMEWORKS: readonly { id: Framework; name: string; outputDirectory: string }[] = [
  VITE,
  ...META,
  CRA,
].map((rule) => ({ id: rule.id, name: rule.name, outputDirectory: rule.output }));

const VITE_CONFIGS = ["ts", "mts", "js", "mjs", "cjs", "cts"].map((ext) => `vite.config.${ext}`);
const NEXT_CONFIGS = ["js", "mjs", "ts", "cjs", "mts"].map((ext) => `next.config.${ext}`);

/**
 * Every file below the project's root whose content detection reads (of the rest, only names and kinds count):
 * reading a repository before its first build fetches just these (src/git/detect-remote.ts).
 */
export const DETECTION_FILES: readonly string[] = [
  "package.json",
  "Procfile",
  ".yarnrc.yml",
  "yarn.lock",
  ...VITE_CONFIGS,
  ...NEXT_CONFIGS,
  "public/index.html",
];

/** Reads `dir` (the project's root inside the checkout) and returns the plan; overrides win over detection. */
export async function detectBuild(dir: string, overrides: BuildOverrides): Promise<BuildPlan> {
  const listing = await listDir(dir);
  if (listing.names.has("package.json") && !listing.files.has("package.json")) {
    throw badRequest("package.json is not a regular file (symbolic links are not followed)");
  }
  const plan = listing.files.has("package.json")
    ? await nodePlan(dir, listing, await readManifest(join(dir, "package.json")))
    : await staticPlan(dir, listing, null, ["No package.json: serving the files as they are"]);
  if (plan.framework === "static" && plan.packageManager === null) {
    const procfile = await startCommandOf(dir, listing, null, null);
    if (procfile && !(await hasIndexHtml(dir, listing))) {
      plan.notes.push(`No index.html: ${procfile.reason} runs as an app server (${procfile.command})`);
      plan.startCandidate = { ...procfile, withoutOutput: false };
    }
  }

  if (overrides.installCommand !== null) {
    plan.installCommand = overrides.installCommand;
    plan.notes.push(`Using the project's install command: ${overrides.installCommand}`);
  }
  if (overrides.buildCommand !== null) {
    plan.buildCommand = overrides.buildCommand;
    plan.notes.push(`Using the project's build command: ${overrides.buildCommand}`);
  }
  if (overrides.outputDirectory !== null) {
    plan.outputDirectory = overrides.outputDirectory;
    plan.notes.push(`Using the project's output directory: ${overrides.outputDirectory || "(project root)"}`);
  }
  return plan;
}

async function nodePlan(dir: string, listing: Listing, manifest: Manifest): Promise<BuildPlan> {
  const { files } = listing;
  const notes: string[] = [];
  const pm = await detectPackageManager(dir, listing, manifest, notes);
  const detected = detectFramework(manifest, files);
  const hasBuild = typeof manifest.scripts.build === "string";
  const start = await startCommandOf(dir, listing, manifest, pm.name);
  if (!detected && !hasBuild && start && !(await hasIndexHtml(dir, listing))) {
    notes.push(
      `No "build" script and no index.html: ${start.reason} runs as an app server (${start.command})`,
    );
    return {
      framework: "node",
      packageManager: pm.name,
      installCommand: pm.install,
      buildCommand: null,
      outputDirectory: "",
      notes,
      startCandidate: { ...start, withoutOutput: false },
    };
  }
  if (!detected && !hasBuild) {
    notes.push('No "build" script and no known framework: serving the files as they are');
    const plan = await staticPlan(dir, listing, pm.name, notes);
    // Zero-config functions import their dependencies: bundling them needs node_modules.
    if (listing.dirs.has("api")) {
      plan.installCommand = pm.install;
      notes.push("api/ may hold functions: installing the dependencies they import");
    }
    return plan;
  }

  let buildCommand = `${RUN[pm.name]} run build`;
  let framework: Framework = "node";
  let output = "dist";
  if (detected) {
    const { rule, reason } = detected;
    framework = rule.id;
    output = rule.output;
    notes.push(`Detected ${rule.name} (${reason})`);
    if (!hasBuild) {
      buildCommand = `${EXEC[pm.name]} ${rule.cli}`;
      notes.push(`No "build" script in package.json: running ${rule.name}'s own build`);
    }
    if (rule.id === "vite") output = await viteOutDir(dir, files, notes);
    if (rule.id === "nextjs") await checkNextOutput(dir, files, notes);
    if (rule.id === "sveltekit" && !dependencyField(manifest, "@sveltejs/adapter-static")) {
      notes.push(
        "Warning: @sveltejs/adapter-static is not a dependency; only a static build written to build/ can be served",
      );
    }
  } else {
    notes.push(
      'No known framework: running the "build" script and serving dist/ (set an output directory to change it)',
    );
  }
  return {
    framework,
    packageManager: pm.name,
    installCommand: pm.install,
    buildCommand,
    outputDirectory: output,
    notes,
    startCandidate: start && { ...start, withoutOutput: true },
  };
}

/** A `web:` process in a Procfile first (it says what serves the web), else package.json's `start` script. */
async function startCommandOf(
  dir: string,
  listing: Listing,
  manifest: Manifest | null,
  pm: PackageManager | null,
): Promise<Omit<StartCandidate, "withoutOutput"> | null> {
  if (listing.files.has("Procfile")) {
    const text = (await readHead(join(dir, "Procfile"), MAX_CONFIG_BYTES)) ?? "";
    const web = /^web:[ \t]*(\S[^\r\n]*)$/m.exec(text)?.[1]?.trim();
    if (web && web.length <= 1000) return { command: web, reason: "the Procfile's web process" };
  }
  const start = manifest?.scripts.start;
  if (typeof start === "string" && start.trim() !== "" && pm !== null)
    return { command: `${RUN[pm]} start`, reason: 'package.json\'s "start" script' };
  return null;
}

async function hasIndexHtml(dir: string, { files, dirs }: Listing): Promise<boolean> {
  return files.has("index.html") || (dirs.has("public") && (await exists(join(dir, "public", "index.html"))));
}

async function staticPlan(
  dir: string,
  { names, dirs }: Listing,
  packageManager: PackageManager | null,
  notes: string[],
): Promise<BuildPlan> {
  const usePublic =
    !names.has("index.html") && dirs.has("public") && (await exists(join(dir, "public", "index.html")));
  notes.push(usePublic ? "Serving public/ (no index.html at the root)" : "Serving the project root");
  return {
    framework: "static",
    packageManager,
    installCommand: null,
    buildCommand: null,
    outputDirectory: usePublic ? "public" : "",
    notes,
    startCandidate: null,
  };
}

function detectFramework(
  manifest: Manifest,
  files: Set<string>,
): { rule: FrameworkRule; reason: string } | null {
  const byDependency = (rule: FrameworkRule) => {
    const field = dependencyField(manifest, rule.pkg);
    return field ? { rule, reason: `"${rule.pkg}" in ${field}` } : null;
  };
  for (const rule of META) {
    const found = byDependency(rule);
    if (found) return found;
  }
  // A vite.config beats a leftover react-scripts dependency (a half-finished CRA -> Vite migration).
  const viteConfig = VITE_CONFIGS.find((name) => files.has(name));
  if (viteConfig) return { rule: VITE, reason: viteConfig };
  return byDependency(CRA) ?? byDependency(VITE);
}

function dependencyField(manifest: Manifest, pkg: string): "dependencies" | "devDependencies" | null {
  if (Object.hasOwn(manifest.dependencies, pkg)) return "dependencies";
  if (Object.hasOwn(manifest.devDependencies, pkg)) return "devDependencies";
  return null;
}

/** build.outDir from vite.config when it is a plain string literal directly inside `build: { ... }`; else dist. */
async function viteOutDir(dir: string, files: Set<string>, notes: string[]): Promise<string> {
  const config = VITE_CONFIGS.find((name) => files.has(name));
  const source = config ? await readConfig(join(dir, config)) : null;
  if (!config || source === null || !/\boutDir\b/.test(source)) return "dist";
  const match = /\bbuild\s*:\s*\{[^{}]*?\boutDir\s*:\s*(["'`])([^"'`$\\\n]*)\1/.exec(source);
  const outDir = match?.[2] === undefined ? null : relativeOutDir(match[2]);
  if (outDir === null) {
    notes.push(
      `${config} sets outDir in a way minivercel does not read: assuming dist/ (set an output directory)`,
    );
    return "dist";
  }
  notes.push(`${config} sets build.outDir: serving ${outDir}/`);
  return outDir;
}

/** "./site/" -> "site"; null for anything outside the project or not plainly relative. */
function relativeOutDir(value: string): string | null {
  const trimmed = value
    .trim()
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "");
  const parts = trimmed.split("/");
  if (trimmed === "" || trimmed.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    return null;
  }
  return trimmed;
}

async function checkNextOutput(dir: string, files: Set<string>, notes: string[]): Promise<void> {
  const config = NEXT_CONFIGS.find((name) => files.has(name));
  const source = config ? await readConfig(join(dir, config)) : null;
  if (config && source !== null && /\boutput\s*:\s*(["'`])export\1/.test(source)) {
    notes.push(`${config} sets output: 'export': serving the static export in out/`);
    return;
  }
  if (config && source !== null && /\boutput\s*:\s*(["'`])standalone\1/.test(source)) {
    notes.push(`${config} sets output: 'standalone': .next/standalone runs as an app server`);
    return;
  }
  const where = config ? `${config} sets neither` : "there is no next.config";
  notes.push(
    `Warning: Next.js is served as a static export (output: 'export') or an app server (output: 'standalone'), and ${where}`,
  );
}

// `minivercel projects create <git-url>`: reads the repository's build settings first (POST /api/projects/detect:
// its branches and what its files say), prints them, then creates the project with them (flags win) and queues its
// first deployment.

import { Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { Deployment, expectShape, Project } from "./responses.ts";

export const CREATE_HELP = `Usage: minivercel projects create <git-url> [--name N] [--branch B] [--root DIR]
         [--install-command C] [--build-command C] [--output-directory D] [--start-command C] [--detect-only] [--json]

  Reads the repository (its branches, and its files at the production branch, in the build sandbox), prints the
  detected framework and settings, creates the project with them (a flag replaces a detected value; "" clears
  it) and starts its first deployment.
  --branch        the production branch (default: the repository's default branch)
  --root          the project's folder in the repository
  --detect-only   print what was detected, create nothing
  --json          print the detection (and the project and deployment) as JSON`;

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const Detected = Type.Object({
  branch: Type.String(),
  branches: Type.Array(Type.String()),
  commitSha: Type.String(),
  framework: Type.String(),
  frameworkName: Type.String(),
  installCommand: Nullable(Type.String()),
  buildCommand: Nullable(Type.String()),
  outputDirectory: Type.String(),
  startCommand: Nullable(Type.String()),
  startAlways: Type.Boolean(),
  notes: Type.Array(Type.String()),
});

/** Flag -> project setting. */
const SETTING_FLAGS = {
  "install-command": "installCommand",
  "build-command": "buildCommand",
  "output-directory": "outputDirectory",
  "start-command": "startCommand",
} as const;

export async function projectsCreate(api: Api, args: string[], out: (text: string) => void): Promise<number> {
  const parsed = parseArgs(args, {
    values: ["name", "branch", "root", ...Object.keys(SETTING_FLAGS)],
    switches: ["detect-only", "json"],
  });
  const [gitUrl, extra] = parsed.positionals;
  if (!gitUrl || extra) throw new UsageError("give exactly one git repository URL");
  const { values } = parsed;
  const detected = expectShape(
    Detected,
    await api.json("POST", "/api/projects/detect", {
      gitUrl,
      ...(values.branch !== undefined && { branch: values.branch }),
      ...(values.root !== undefined && { rootDirectory: values.root }),
    }),
    "detection",
  );
  const json = parsed.switches.has("json");
  if (!json) out(describe(detected));
  if (parsed.switches.has("detect-only")) {
    if (json) out(JSON.stringify(detected));
    return 0;
  }
  const settings: Record<string, string | null> = {
    gitUrl,
    productionBranch: detected.branch,
    name: values.name ?? nameOf(gitUrl),
    ...(values.root && { rootDirectory: values.root }),
    installCommand: detected.installCommand,
    buildCommand: detected.buildCommand,
    outputDirectory: detected.outputDirectory === "" ? null : detected.outputDirectory,
    startCommand: detected.startAlways ? detected.startCommand : null,
  };
  for (const [flag, key] of Object.entries(SETTING_FLAGS)) {
    const given = values[flag];
    if (given !== undefined) settings[key] = given === "" ? null : given;
  }
  const body = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null));
  const project = expectShape(Project, await api.json("POST", "/api/projects", body), "project");
  const deployment = expectShape(
    Deployment,
    await api.json("POST", "/api/deploy", { projectId: project.id }),
    "deployment",
  );
  if (json) {
    out(JSON.stringify({ detected, project, deployment }));
    return 0;
  }
  out(`Created ${project.subDomain} (${project.id}): ${project.productionUrl}`);
  out(`First deployment ${deployment.id} queued; follow it with 'minivercel logs ${deployment.id} --follow'`);
  return 0;
}

function describe(d: typeof Detected.static): string {
  const rows: [string, string | null][] = [
    ["framework", d.frameworkName],
    ["branch", `${d.branch} (${d.commitSha.slice(0, 7)})`],
    ["install command", d.installCommand],
    ["build command", d.buildCommand],
    ["output directory", d.outputDirectory === "" ? "(the project root)" : d.outputDirectory],
    [d.startAlways ? "start command" : "start command (if no output)", d.startCommand],
  ];
  return [
    "Detected:",
    ...rows
      .filter((row): row is [string, string] => row[1] !== null)
      .map(([k, v]) => `  ${k.padEnd(28)}${v}`),
  ].join("\n");
}

/** "https://host/you/my-site.git" -> "my-site". */
function nameOf(url: string): string {
  const last =
    url
      .trim()
      .replace(/\/+$/, "")
      .replace(/\.git$/i, "")
      .split(/[/:]/)
      .pop() ?? "";
  return last.slice(0, 100) || "site";
}

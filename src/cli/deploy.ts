// `minivercel deploy [dir]`: hash the folder, upload only the files the server lacks (8 at a time), create
// the deployment from the file set, follow a server-side build's log, and print the URLs.

import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type CollectedFile, collectOutput } from "../../builder/upload.ts";
import { DEFAULT_UPLOAD_LIMITS } from "../../builder/walk.ts";
import { findApiFunctions } from "../../builder/zero-config.ts";
import { AppError } from "../errors.ts";
import { formatBytes } from "../utils/bytes.ts";
import { mapLimit } from "../utils/parallel.ts";
import { LINK_FILE, readLink, writeLink } from "./config.ts";
import { followLog } from "./follow.ts";
import { type Api, CliError } from "./http.ts";
import { type Output, progress } from "./progress.ts";
import { findProject } from "./project-ref.ts";
import { Created, expectShape, Missing, type Project, Project as ProjectSchema } from "./responses.ts";
import { collectSource } from "./source-files.ts";

const UPLOAD_PARALLELISM = 8;
const UPLOAD_ATTEMPTS = 3;

export interface DeployOptions {
  dir: string;
  prod: boolean;
  /** --project; else the folder's link; else a new project named after the folder. */
  project: string | undefined;
  /** auto: a package.json with a build script is source to build on the server; anything else is prebuilt. */
  mode: "auto" | "prebuilt" | "source";
  branch: string | undefined;
  json: boolean;
}

export interface DeployIo {
  stdout(text: string): void;
  stderr: Output;
}

function hasBuildScript(dir: string): boolean {
  const path = join(dir, "package.json");
  if (!existsSync(path)) return false;
  try {
    const pkg: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof pkg !== "object" || pkg === null || !("scripts" in pkg)) return false;
    const { scripts } = pkg;
    return typeof scripts === "object" && scripts !== null && "build" in scripts;
  } catch {
    return false;
  }
}

/** A Build Output (`vercel build`, a framework adapter) in the folder: deployed as it is, functions included. */
function hasBuildOutput(dir: string): boolean {
  return existsSync(join(dir, BUILD_OUTPUT_CONFIG));
}

const BUILD_OUTPUT_CONFIG = ".vercel/output/config.json";

/** Zero-config functions under api/ (as the builder finds them). */
async function hasApiFunctions(dir: string): Promise<boolean> {
  try {
    return (await findApiFunctions(dir, dir)).length > 0;
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function targetProject(api: Api, opts: DeployOptions, io: DeployIo): Promise<Project> {
  const ref = opts.project ?? readLink(opts.dir);
  if (ref !== null) {
    const found = await findProject(api, ref);
    if (found) return found;
    throw new CliError(
      opts.project !== undefined
        ? `no project '${ref}' (see 'minivercel projects')`
        : `the linked project ${ref} no longer exists: pass --project or delete ${LINK_FILE}`,
      2,
    );
  }
  const name = basename(opts.dir).slice(0, 100) || "site";
  const created = expectShape(ProjectSchema, await api.json("POST", "/api/projects", { name }), "project");
  writeLink(opts.dir, created.id);
  io.stderr.write(`Created project ${created.subDomain} (${created.id}), linked in ${LINK_FILE}\n`);
  return created;
}

/** What is uploaded: a source tree to build, a Build Output to deploy as it is, or a folder to serve as it is. */
type Upload = "source" | "build-output" | "static";

async function collect(
  opts: DeployOptions,
  upload: Upload,
  warn: (m: string) => void,
): Promise<CollectedFile[]> {
  if (upload === "source") return collectSource(opts.dir, warn);
  try {
    if (upload === "build-output") {
      // Only .vercel/output, at its own path: the server's builder deploys it without installing or building.
      // Symbolic links (SvelteKit's shared .func folders) are followed inside it, each file stored once.
      const output = join(opts.dir, ".vercel", "output");
      const files = await collectOutput(output, DEFAULT_UPLOAD_LIMITS, warn, realpathSync(output));
      return files.map((f) => ({ ...f, path: `/.vercel/output${f.path}` }));
    }
    const files = await collectOutput(opts.dir, DEFAULT_UPLOAD_LIMITS, warn);
    return files.filter((f) => f.path !== `/${LINK_FILE}`);
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function uploadOne(api: Api, file: CollectedFile): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await api.send("PUT", `/api/files/${file.hash}`, { body: Bun.file(file.abs) });
      return;
    } catch (error) {
      if (error instanceof CliError && error.message.includes("does not match"))
        throw new CliError(`${file.path} changed while it was being uploaded: deploy again`, 1);
      if (!(error instanceof CliError && error.retryable) || attempt >= UPLOAD_ATTEMPTS) throw error;
      // Over the server's upload budget (429): wait as long as it says, within reason.
      await Bun.sleep(Math.min(60_000, Math.max(250 * attempt, error.retryAfterMs ?? 0)));
    }
  }
}

export async function deploy(api: Api, opts: DeployOptions, io: DeployIo): Promise<number> {
  const started = performance.now();
  const dir = resolve(opts.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CliError(`no such directory: ${opts.dir}`, 2);
  const options = { ...opts, dir };
  // As Vercel's CLI: a project with a build script or api/ functions is built on the server (functions are
  // bundled there; served as files, their source would be public) unless --prebuilt, which deploys its
  // .vercel/output (from `vercel build` or an adapter) when there is one.
  const upload: Upload =
    opts.mode === "source" || (opts.mode === "auto" && (hasBuildScript(dir) || (await hasApiFunctions(dir))))
      ? "source"
      : hasBuildOutput(dir)
        ? "build-output"
        : "static";
  // A Build Output is deployed by the server's builder (it checks config.json and stores the functions).
  const source = upload !== "static";
  const say = (text: string) => io.stderr.write(`${text}\n`);

  const files = await collect(options, upload, (m) => say(`warning: ${m}`));
  if (files.length === 0) throw new CliError(`${opts.dir} has no files to deploy`, 2);
  const project = await targetProject(api, options, io);
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  say(
    `Deploying ${opts.dir} to ${project.subDomain}: ${files.length} files (${formatBytes(bytes)}), ` +
      (upload === "source"
        ? "source to build on the server"
        : upload === "build-output"
          ? "a Build Output (.vercel/output) with its functions"
          : "prebuilt"),
  );

  const byHash = new Map<string, CollectedFile>();
  for (const f of files) if (!byHash.has(f.hash)) byHash.set(f.hash, f);
  const { missing } = expectShape(
    Missing,
    await api.json("POST", "/api/files/missing", { hashes: [...byHash.keys()] }),
    "missing files",
  );
  const toUpload = missing.flatMap((h) => byHash.get(h) ?? []);
  const uploadBytes = toUpload.reduce((sum, f) => sum + f.size, 0);
  if (toUpload.length > 0) {
    const bar = progress(io.stderr, toUpload.length, uploadBytes);
    await mapLimit(toUpload, UPLOAD_PARALLELISM, async (file) => {
      await uploadOne(api, file);
      bar.advance(file.size);
    });
    bar.done();
  }
  say(`${toUpload.length} of ${byHash.size} distinct files uploaded; the rest were already on the server`);

  const created = expectShape(
    Created,
    await api.json("POST", `/api/projects/${project.id}/deployments`, {
      files: Object.fromEntries(files.map((f) => [f.path, { hash: f.hash, size: f.size, type: f.type }])),
      target: opts.prod ? "production" : "preview",
      ...(opts.branch !== undefined && { branch: opts.branch }),
      ...(source && { source: true }),
    }),
    "deployment",
  );
  let deployment = created.deployment;
  if (deployment.status !== "READY") {
    say(`Building ${deployment.id} on the server:`);
    deployment = await followLog(api, deployment.id, (line) => say(line.text), say);
  }
  // A prebuilt deployment comes back READY with the project as it moved; a build has to be asked again.
  const after =
    opts.prod && deployment.status === "READY" && created.deployment.status !== "READY"
      ? expectShape(ProjectSchema, await api.json("GET", `/api/projects/${project.id}`), "project")
      : created.project;
  const seconds = ((performance.now() - started) / 1000).toFixed(2);

  if (opts.json) {
    io.stdout(
      `${JSON.stringify({
        deploymentId: deployment.id,
        projectId: project.id,
        status: deployment.status,
        statusReason: deployment.statusReason,
        url: deployment.url,
        productionUrl: opts.prod ? after.productionUrl : null,
        files: files.length,
        uploaded: toUpload.length,
        uploadedBytes: uploadBytes,
        seconds: Number(seconds),
      })}\n`,
    );
  }
  if (deployment.status !== "READY")
    throw new CliError(
      `deployment ${deployment.id} ${deployment.status}: ${deployment.statusReason ?? "no reason given"}`,
      1,
    );
  if (opts.json) return 0;
  say(`Ready in ${seconds} s`);
  io.stdout(`Deployment: ${deployment.url}\n`);
  if (opts.prod) {
    if (after.productionDeploymentId === deployment.id) io.stdout(`Production: ${after.productionUrl}\n`);
    else say(`warning: a newer deployment is production; ${after.productionUrl} does not serve this one`);
  }
  return 0;
}

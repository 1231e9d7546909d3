// The build job: everything a builder needs, handed over on stdin by a runner; validated like any input.

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const S3 = Type.Object({
  endpoint: Nullable(Type.String()),
  region: Type.String(),
  bucket: Type.String(),
  accessKeyId: Type.String(),
  secretAccessKey: Type.String(),
  publicUrl: Nullable(Type.String()),
});

/** The artifact store a local builder writes to (the worker's own; the job travels on a private pipe). */
const ArtifactsConfig = Type.Union([
  Type.Object({ kind: Type.Literal("disk"), dir: Type.String() }),
  Type.Object({ kind: Type.Literal("s3"), s3: S3, cacheDir: Type.Optional(Type.String()) }),
]);

export const BuildJob = Type.Object({
  deploymentId: Type.String({ minLength: 36, maxLength: 36 }),
  /** Empty when the source is an upload (see `source`) and the project has no repository. */
  gitUrl: Type.String({ maxLength: 2048 }),
  branch: Nullable(Type.String({ maxLength: 255 })),
  commitSha: Nullable(Type.String({ pattern: "^[0-9a-f]{7,40}$" })),
  rootDirectory: Nullable(Type.String({ maxLength: 255 })),
  installCommand: Nullable(Type.String({ maxLength: 1000 })),
  buildCommand: Nullable(Type.String({ maxLength: 1000 })),
  outputDirectory: Nullable(Type.String({ maxLength: 255 })),
  /** The project's start command: the deployment runs as an app server (absent from older workers: detected). */
  startCommand: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  /**
   * Where the code comes from: the repository (gitUrl, branch, commitSha; also when absent) or a source tree
   * uploaded with the CLI, stored in the artifact store as the manifest `manifestId`.
   */
  source: Type.Optional(
    Type.Union([
      Type.Object({ kind: Type.Literal("git") }),
      Type.Object({
        kind: Type.Literal("manifest"),
        manifestId: Type.String({ minLength: 1, maxLength: 128 }),
      }),
    ]),
  ),
  /** The project's variables for the deployment's target, decrypted: passed to install and build, masked in the log. */
  env: Type.Record(Type.String(), Type.String()),
  /** The deployment's target, seen by install and build as VERCEL_ENV (absent from older workers: not set). */
  target: Type.Optional(Type.Union([Type.Literal("production"), Type.Literal("preview")])),
  /**
   * Vercel's system variables for this deployment (VERCEL=1, VERCEL_URL, VERCEL_DEPLOYMENT_ID, ...), set over the
   * project's own for install and build (frameworks detect Vercel by them); absent from older workers.
   */
  system: Type.Optional(
    Type.Record(Type.String({ pattern: "^VERCEL[A-Z_]*$" }), Type.String({ maxLength: 2048 })),
  ),
  /**
   * The project builds from its push remote (src/git): the path under which the platform serves that repository
   * over HTTP ("/git/<subdomain>.git"). A remote builder fetches it from there rather than from `gitUrl` (a path
   * on the worker's disk); a local builder ignores it.
   */
  pushRemote: Type.Optional(Type.String({ pattern: "^/git/[a-z0-9-]{1,63}\\.git$" })),
  /**
   * A remote builder's credential for fetching `gitUrl` from the platform itself (`output.apiUrl` + pushRemote):
   * good for this deployment's repository only, read-only and for a few minutes (src/identity/build-tokens.ts).
   */
  gitToken: Type.Optional(Type.String({ maxLength: 200 })),
  allowLocalGit: Type.Boolean(),
  /** Git hosts on loopback, private and link-local addresses are allowed; absent: refused. */
  allowPrivateGit: Type.Optional(Type.Boolean()),
  sandbox: Type.Union([Type.Literal("bwrap"), Type.Literal("none")]),
  /** Where mode "bwrap" finds its helper programs (the worker's BUILD_SANDBOX_PATH); absent: the system's. */
  sandboxPath: Type.Optional(Type.String({ maxLength: 4096 })),
  limits: Type.Object({
    memoryMb: Type.Integer(),
    pids: Type.Integer(),
    timeoutMs: Type.Integer(),
    /** Bytes of build log forwarded (BUILD_LOG_MAX_MB); absent: DEFAULT_LOG_BYTES (schema/events.ts). */
    logBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
  }),
  /** Host paths: the build's scratch dir and the project's package cache. */
  workDir: Type.String(),
  cacheDir: Nullable(Type.String()),
  /**
   * Where results go. local: events on stdout, files into the artifact store's directory (a builder run by the
   * local runner). http: the platform's build API with a token good for this one deployment only (ECS), so a
   * remote builder holds no platform credential.
   */
  output: Type.Union([
    Type.Object({ kind: Type.Literal("local"), artifacts: ArtifactsConfig }),
    Type.Object({ kind: Type.Literal("http"), apiUrl: Type.String(), token: Type.String() }),
  ]),
});

export type BuildJob = Static<typeof BuildJob>;

const check = TypeCompiler.Compile(BuildJob);

export function parseJob(value: unknown): BuildJob {
  if (check.Check(value)) return value;
  const first = check.Errors(value).First();
  throw new Error(`invalid build job: ${first ? `${first.path} ${first.message}` : "wrong shape"}`);
}

// A function's `.vc-config.json` (Build Output API v3, https://vercel.com/docs/build-output-api/primitives):
// how to run it. Read from untrusted output at deploy time (builder) and again by the runtime, with the same rules.

import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** Defaults and bounds of what a function may ask for (Vercel's own, for a plan without limits). */
export const FUNCTION_MEMORY_MB = { default: 1024, min: 128, max: 3008 } as const;
export const FUNCTION_MAX_DURATION_SECONDS = { default: 60, max: 900 } as const;

const NodeConfig = Type.Object({
  runtime: Type.String({ pattern: "^nodejs\\d+(\\.x)?$" }),
  handler: Type.String({ minLength: 1, maxLength: 1024 }),
  launcherType: Type.Literal("Nodejs"),
  shouldAddHelpers: Type.Optional(Type.Boolean()),
  supportsResponseStreaming: Type.Optional(Type.Boolean()),
  memory: Type.Optional(Type.Integer()),
  /** Seconds, or "max": the longest the platform allows. */
  maxDuration: Type.Optional(Type.Union([Type.Integer(), Type.Literal("max")])),
  environment: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const EdgeConfig = Type.Object({
  runtime: Type.Literal("edge"),
  entrypoint: Type.String({ minLength: 1, maxLength: 1024 }),
  envVarsInUse: Type.Optional(Type.Array(Type.String())),
});

const checkNode = TypeCompiler.Compile(NodeConfig);
const checkEdge = TypeCompiler.Compile(EdgeConfig);

/** What the runtime needs to start one of the function's instances. */
export interface FunctionSpec {
  runtime: "nodejs" | "edge";
  /** As written: "nodejs20.x", "edge". */
  runtimeName: string;
  /** The module to import, relative to the function's directory. */
  handler: string;
  /**
   * Vercel's Node helpers on req and res (shouldAddHelpers). Off unless asked for, as on Vercel: a framework's
   * handler reads the raw body itself (with helpers on, Astro's reads the parsed `req.body` instead).
   */
  helpers: boolean;
  memoryMb: number;
  maxDurationSeconds: number;
  /** Variables the output sets for the function itself (`environment`), below the project's. */
  environment: Record<string, string>;
}

/** A path inside the function's directory ("./index.mjs" is "index.mjs"), or null when it would leave it. */
function bundlePath(p: string): string | null {
  const trimmed = p.replace(/^(\.\/)+/, "");
  if (trimmed.startsWith("/") || trimmed.split("/").some((s) => s === "" || s === ".." || s === "."))
    return null;
  return trimmed;
}

/** The spec, or why the configuration cannot be run (one line naming the field). */
export function parseFunctionConfig(text: string): { spec: FunctionSpec } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: ".vc-config.json is not valid JSON" };
  }
  const runtime =
    typeof value === "object" && value !== null && "runtime" in value ? value.runtime : undefined;
  if (runtime === "edge") {
    if (!checkEdge.Check(value)) return { problem: firstError(checkEdge.Errors(value).First()) };
    const entrypoint = bundlePath(value.entrypoint);
    if (entrypoint === null)
      return { problem: `entrypoint ${JSON.stringify(value.entrypoint)} is not a path inside the function` };
    return {
      spec: {
        runtime: "edge",
        runtimeName: "edge",
        handler: entrypoint,
        helpers: false,
        memoryMb: FUNCTION_MEMORY_MB.default,
        maxDurationSeconds: FUNCTION_MAX_DURATION_SECONDS.default,
        environment: {},
      },
    };
  }
  if (typeof runtime !== "string" || !runtime.startsWith("nodejs"))
    return {
      problem: `runtime ${JSON.stringify(runtime ?? null)} is not supported (nodejs* with launcherType "Nodejs", or edge)`,
    };
  if (!checkNode.Check(value)) return { problem: firstError(checkNode.Errors(value).First()) };
  const handler = bundlePath(value.handler);
  if (handler === null)
    return { problem: `handler ${JSON.stringify(value.handler)} is not a path inside the function` };
  const memory = value.memory ?? FUNCTION_MEMORY_MB.default;
  if (memory < FUNCTION_MEMORY_MB.min || memory > FUNCTION_MEMORY_MB.max)
    return {
      problem: `memory must be ${FUNCTION_MEMORY_MB.min} to ${FUNCTION_MEMORY_MB.max} MB, got ${memory}`,
    };
  const maxDuration =
    value.maxDuration === "max"
      ? FUNCTION_MAX_DURATION_SECONDS.max
      : (value.maxDuration ?? FUNCTION_MAX_DURATION_SECONDS.default);
  if (maxDuration < 1 || maxDuration > FUNCTION_MAX_DURATION_SECONDS.max)
    return {
      problem: `maxDuration must be 1 to ${FUNCTION_MAX_DURATION_SECONDS.max} seconds, got ${maxDuration}`,
    };
  return {
    spec: {
      runtime: "nodejs",
      runtimeName: value.runtime,
      handler,
      helpers: value.shouldAddHelpers ?? false,
      memoryMb: memory,
      maxDurationSeconds: maxDuration,
      environment: value.environment ?? {},
    },
  };
}

function firstError(error: { path: string; message: string } | undefined): string {
  if (!error) return ".vc-config.json has the wrong shape";
  const field = error.path.replace(/^\//, "").replaceAll("/", ".") || "the file";
  return `${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
}

// Build Output API v3: a function's `.vc-config.json` and its `<name>.prerender-config.json`, checked at deploy time
// so that the runtime only ever meets configurations it can run. The files are stored as they are (blobs); what
// is read here decides whether the deployment is accepted, and names the function and field when it is not.
// (https://vercel.com/docs/build-output-api/primitives#serverless-function-configuration)

import { badRequest } from "../src/errors.ts";
import { isBundlePath } from "../src/store/artifacts.ts";

export interface FunctionConfig {
  /** "nodejs20.x" and the like, or "edge". */
  runtime: string;
  kind: "nodejs" | "edge";
  /** The module the runtime loads, relative to the .func directory: `handler` (Node.js) or `entrypoint` (edge). */
  entry: string;
  /** Files that live outside the .func directory: path in the function -> path from the repository's root. */
  filePathMap: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Fields Vercel's own platform uses that change nothing here, read past in silence. */
const IGNORED = new Set([
  "regions",
  "functionFailoverRegions",
  "architecture",
  "maxConcurrency",
  "framework",
  "operationType",
  "supportsMultiPayloads",
  "supportsWrapper",
  "supportsCancellation",
  "experimentalTriggers",
  "shouldDisableAutomaticFetchInstrumentation",
  "allowQuery",
  "useWebApi",
]);

/** Environment variable names a function may set: the ones a process can carry. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** "./index.js" -> "index.js"; null when it is not a plain relative path inside the function. */
function bundlePath(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const path = value.replace(/^(\.\/)+/, "");
  return isBundlePath(path) ? path : null;
}

/**
 * Parses `.vc-config.json` of the function at `fn` ("/api/hello"). Throws AppError (bad_request) naming the
 * function and the field for anything the runtime could not honour; `notes` are for the build log.
 */
export function parseFunctionConfig(fn: string, text: string): { config: FunctionConfig; notes: string[] } {
  const refuse = (problem: string) => badRequest(`function "${fn}": ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw refuse(`.vc-config.json is not valid JSON (${error instanceof Error ? error.message : error})`);
  }
  if (!isRecord(value)) throw refuse(".vc-config.json must hold a JSON object");
  const notes: string[] = [];
  const { runtime } = value;
  if (typeof runtime !== "string" || runtime === "") throw refuse('.vc-config.json has no "runtime"');

  let kind: FunctionConfig["kind"];
  let entry: string | null;
  if (/^nodejs\d+\.x$/.test(runtime)) {
    kind = "nodejs";
    if (value.handler === undefined) throw refuse(`"handler" is missing (runtime ${runtime} needs one)`);
    entry = bundlePath(value.handler);
    if (entry === null) throw refuse('"handler" must be a relative path to a file of the function');
    if (value.launcherType !== "Nodejs")
      throw refuse(
        `"launcherType" must be "Nodejs" (found ${JSON.stringify(value.launcherType ?? null)}); other launchers are not supported`,
      );
    if (value.awsLambdaHandler !== undefined)
      throw refuse('"awsLambdaHandler" (an AWS Lambda style handler) is not supported');
  } else if (runtime === "edge") {
    kind = "edge";
    if (value.entrypoint === undefined) throw refuse('"entrypoint" is missing (runtime edge needs one)');
    entry = bundlePath(value.entrypoint);
    if (entry === null) throw refuse('"entrypoint" must be a relative path to a file of the function');
  } else {
    throw refuse(
      `runtime ${JSON.stringify(runtime)} is not supported: minivercel runs Node.js ("nodejs20.x" and the like) and "edge" functions`,
    );
  }

  const { memory, maxDuration, environment } = value;
  if (
    memory !== undefined &&
    !(Number.isInteger(memory) && Number(memory) >= 128 && Number(memory) <= 10_240)
  )
    throw refuse('"memory" must be a whole number of MB between 128 and 10240');
  if (
    maxDuration !== undefined &&
    maxDuration !== "max" &&
    !(Number.isInteger(maxDuration) && Number(maxDuration) > 0)
  )
    throw refuse('"maxDuration" must be a whole number of seconds (or "max")');
  if (environment !== undefined) {
    if (!isRecord(environment)) throw refuse('"environment" must be an object of strings');
    for (const [name, v] of Object.entries(environment)) {
      if (!ENV_NAME.test(name)) throw refuse(`"environment" has a bad variable name ${JSON.stringify(name)}`);
      if (typeof v !== "string" || v.includes("\0"))
        throw refuse(`"environment" variable ${name} must be a string without NUL bytes`);
    }
  }
  for (const flag of [
    "supportsResponseStreaming",
    "experimentalResponseStreaming",
    "shouldAddHelpers",
    "shouldAddSourcemapSupport",
  ]) {
    if (value[flag] !== undefined && typeof value[flag] !== "boolean")
      throw refuse(`"${flag}" must be true or false`);
  }
  if (value.regions !== undefined) notes.push(`function "${fn}": "regions" is ignored (one region here)`);

  const filePathMap: Record<string, string> = {};
  if (value.filePathMap !== undefined) {
    if (!isRecord(value.filePathMap)) throw refuse('"filePathMap" must be an object of paths');
    for (const [inFunction, fromRoot] of Object.entries(value.filePathMap)) {
      const key = bundlePath(inFunction);
      const source = bundlePath(fromRoot);
      if (key === null || source === null)
        throw refuse(
          `"filePathMap" entry ${JSON.stringify(inFunction)}: both paths must be relative and stay inside (function, repository)`,
        );
      filePathMap[key] = source;
    }
  }
  const known = new Set([
    "runtime",
    "handler",
    "entrypoint",
    "launcherType",
    "memory",
    "maxDuration",
    "environment",
    "filePathMap",
    "supportsResponseStreaming",
    "experimentalResponseStreaming",
    "shouldAddHelpers",
    "shouldAddSourcemapSupport",
    "awsLambdaHandler",
  ]);
  const unknown = Object.keys(value).filter((k) => !known.has(k) && !IGNORED.has(k));
  if (unknown.length > 0) notes.push(`function "${fn}": ignored unknown fields ${unknown.join(", ")}`);
  return { config: { runtime, kind, entry, filePathMap }, notes };
}

/**
 * Parses `<name>.prerender-config.json` of the function at `fn`; returns the fallback file it names (relative to
 * the config's directory), written by `vercel build` as a string or as `{ "fsPath": ... }`, or null.
 */
export function parsePrerenderConfig(fn: string, text: string): { fallback: string | null } {
  const refuse = (problem: string) => badRequest(`function "${fn}": prerender config: ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw refuse(`not valid JSON (${error instanceof Error ? error.message : error})`);
  }
  if (!isRecord(value)) throw refuse("must hold a JSON object");
  const { expiration, group, bypassToken, allowQuery, passQuery, initialStatus, initialHeaders } = value;
  if (
    expiration !== false &&
    !(typeof expiration === "number" && Number.isFinite(expiration) && expiration >= 0)
  )
    throw refuse('"expiration" must be a number of seconds or false');
  if (group !== undefined && !Number.isInteger(group)) throw refuse('"group" must be a whole number');
  if (bypassToken !== undefined && (typeof bypassToken !== "string" || bypassToken.length < 32))
    throw refuse('"bypassToken" must be a string of at least 32 characters');
  if (
    allowQuery !== undefined &&
    !(Array.isArray(allowQuery) && allowQuery.every((q) => typeof q === "string"))
  )
    throw refuse('"allowQuery" must be a list of query parameter names');
  if (passQuery !== undefined && typeof passQuery !== "boolean")
    throw refuse('"passQuery" must be true or false');
  if (initialStatus !== undefined && !Number.isInteger(initialStatus))
    throw refuse('"initialStatus" must be an HTTP status');
  if (
    initialHeaders !== undefined &&
    !(isRecord(initialHeaders) && Object.values(initialHeaders).every((h) => typeof h === "string"))
  )
    throw refuse('"initialHeaders" must be an object of strings');

  const raw = isRecord(value.fallback) ? value.fallback.fsPath : value.fallback;
  if (raw === undefined || raw === null) return { fallback: null };
  const fallback = bundlePath(raw);
  if (fallback === null) throw refuse('"fallback" must name a file beside the configuration');
  return { fallback };
}

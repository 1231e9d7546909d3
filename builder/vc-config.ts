// Build Output API v3: a function's `.vc-config.json` and its `<name>.prerender-config.json`, checked at deploy time
// with the runtime's own rules (src/model/), so that it only ever meets configurations it can run; plus what only
// the deploy uses: `filePathMap` (files the builder takes from the repository) and what it refuses or ignores.
// (https://vercel.com/docs/build-output-api/primitives#serverless-function-configuration)

import { badRequest } from "../src/errors.ts";
import { type FunctionSpec, parseFunctionConfig as parseSpec } from "../src/model/function-config.ts";
import { parsePrerenderConfig as parsePrerender } from "../src/model/prerender-config.ts";
import { isBundlePath } from "../src/store/artifacts.ts";

export interface FunctionConfig {
  /** As written: "nodejs20.x", "edge". */
  runtime: string;
  kind: FunctionSpec["runtime"];
  /** The module the runtime loads, relative to the .func directory: `handler` (Node.js) or `entrypoint` (edge). */
  entry: string;
  /** Files that live outside the .func directory: path in the function -> path from the repository's root. */
  filePathMap: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Environment variable names a function may set: the ones a process can carry. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** "./index.js" -> "index.js"; null when it is not a plain relative path inside. */
function relativePath(value: unknown): string | null {
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
  const parsed = parseSpec(text);
  if ("problem" in parsed) throw refuse(parsed.problem);
  const { spec } = parsed;
  // The runtime's parser accepted it, so it is a JSON object.
  const value: unknown = JSON.parse(text);
  if (!isRecord(value)) throw refuse(".vc-config.json must hold a JSON object");
  const notes: string[] = [];

  if (value.awsLambdaHandler !== undefined)
    throw refuse('"awsLambdaHandler" (an AWS Lambda style handler) is not supported');
  for (const name of Object.keys(spec.environment))
    if (!ENV_NAME.test(name)) throw refuse(`"environment" has a bad variable name ${JSON.stringify(name)}`);
  if (value.regions !== undefined) notes.push(`function "${fn}": "regions" is ignored (one region here)`);

  const filePathMap: Record<string, string> = {};
  if (value.filePathMap !== undefined) {
    if (!isRecord(value.filePathMap)) throw refuse('"filePathMap" must be an object of paths');
    for (const [inFunction, fromRoot] of Object.entries(value.filePathMap)) {
      const key = relativePath(inFunction);
      const source = relativePath(fromRoot);
      if (key === null || source === null)
        throw refuse(
          `"filePathMap" entry ${JSON.stringify(inFunction)}: both paths must be relative and stay inside (function, repository)`,
        );
      filePathMap[key] = source;
    }
  }
  return {
    config: { runtime: spec.runtimeName, kind: spec.runtime, entry: spec.handler, filePathMap },
    notes,
  };
}

/** Parses `<name>.prerender-config.json` of the function at `fn` with the runtime's rules; returns its fallback. */
export function parsePrerenderConfig(fn: string, text: string): { fallback: string | null } {
  const parsed = parsePrerender(text);
  if ("problem" in parsed) throw badRequest(`function "${fn}": ${parsed.problem}`);
  return { fallback: parsed.config.fallback };
}

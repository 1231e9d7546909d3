// Build Output API v3: `.vercel/output/config.json` (https://vercel.com/docs/build-output-api/configuration),
// parsed once per deployment from untrusted text. What is supported is validated and normalized here; what is not
// is refused with a message naming it (severity "error": the deploy fails), never silently ignored. Fields that
// change nothing about serving are accepted (`framework`, `cache`), a few with a warning saying what is skipped.

import { parseSchedule } from "../../model/cron.ts";
import { isManifestPath } from "../../store/artifacts.ts";
import { normalizeRoutes, type Route, schemaError } from "./config-routes.ts";
import { type ConfigProblem, Crons, Framework, Images, Overrides, Wildcard } from "./config-schema.ts";

export type { HandleRoute, Route, SourceRoute } from "./config-routes.ts";
export type { ConfigProblem } from "./config-schema.ts";

/** A static file served at another URL path and/or with another content type. Keys are manifest paths. */
export interface Override {
  /** URL path ("/about" for `{ "about.html": { "path": "about" } }`); absent: the file's own path. */
  path?: string;
  contentType?: string;
}

/** A scheduled invocation of one of the deployment's paths (the runtime schedules them). */
export interface Cron {
  path: string;
  /** Five cron fields: minute hour day-of-month month day-of-week. */
  schedule: string;
}

export interface BuildOutputConfig {
  version: 3;
  /** In file order, handle markers included (they delimit the phases). */
  routes: Route[];
  /** By static file (manifest path, "/about.html"). */
  overrides?: Record<string, Override>;
  crons?: Cron[];
  /** Present when the config asks for image optimization: `/_vercel/image` then serves originals, unresized. */
  images?: Images;
}

/** Larger files are refused before parsing (the biggest Next.js configs are a few hundred KB). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[^"]*"|[\w!#$&^.+-]+))*$/;

function parseCrons(value: unknown, errors: string[]): Cron[] {
  const wrong = schemaError(Crons, value, "crons");
  if (wrong) {
    errors.push(wrong);
    return [];
  }
  const crons = value as Cron[];
  crons.forEach(({ path, schedule }, i) => {
    if (!path.startsWith("/")) errors.push(`crons[${i}].path: must start with /`);
    const parsed = parseSchedule(schedule);
    if (typeof parsed === "string") errors.push(`crons[${i}].schedule: ${parsed}`);
  });
  return crons.map(({ path, schedule }) => ({ path, schedule: schedule.trim() }));
}

function parseOverrides(value: unknown, errors: string[]): Record<string, Override> {
  const wrong = schemaError(Overrides, value, "overrides");
  if (wrong) {
    errors.push(wrong);
    return {};
  }
  const out: Record<string, Override> = {};
  for (const [file, { path, contentType }] of Object.entries(value as Record<string, Override>)) {
    const where = `overrides[${JSON.stringify(file)}]`;
    const key = `/${file.replace(/^\//, "")}`;
    // The root page is written with an empty path (SvelteKit: { "index.html": { "path": "" } }).
    const served = path === undefined ? undefined : `/${path.replace(/^\//, "")}`;
    if (!isManifestPath(key)) errors.push(`${where}: not a file path`);
    if (served !== undefined && served !== "/" && !isManifestPath(served.replace(/\/$/, "")))
      errors.push(`${where}.path: not a URL path`);
    if (contentType !== undefined && !MEDIA_TYPE.test(contentType))
      errors.push(`${where}.contentType: ${JSON.stringify(contentType)} is not a media type`);
    out[key] = { ...(served !== undefined && { path: served }), ...(contentType && { contentType }) };
  }
  return out;
}

/** Parses config.json's text; `problems` lists what is refused (error) or accepted with a caveat (warning). */
export function parseBuildOutputConfig(text: string): {
  config: BuildOutputConfig | null;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const refuse = (message: string) => problems.push({ message, severity: "error" });
  const warn = (message: string) => problems.push({ message, severity: "warning" });
  if (text.length > MAX_CONFIG_BYTES) refuse(`config.json is larger than ${MAX_CONFIG_BYTES} bytes`);
  let value: unknown;
  try {
    value = problems.length === 0 ? JSON.parse(text) : null;
  } catch (error) {
    refuse(`config.json is not valid JSON: ${String(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || !("version" in value)) {
    if (problems.length === 0) refuse('config.json must have "version": 3');
    return { config: null, problems };
  }
  const fields = value as Record<string, unknown>;
  // The seed's wording, which the builder's tests and users' logs already know.
  if (fields.version !== 3) refuse('config.json must have "version": 3');

  const errors: string[] = [];
  const config: BuildOutputConfig = { version: 3, routes: [] };
  for (const [name, field] of Object.entries(fields)) {
    switch (name) {
      case "version":
        break;
      case "routes":
        config.routes = normalizeRoutes(field, problems);
        break;
      case "overrides":
        config.overrides = parseOverrides(field, errors);
        break;
      case "crons":
        config.crons = parseCrons(field, errors);
        break;
      case "images": {
        const wrong = schemaError(Images, field, "images");
        if (wrong) errors.push(wrong);
        else {
          config.images = field as Images;
          warn(
            "images: /_vercel/image serves the original local image, not resized or converted (no optimizer); remote images are refused",
          );
        }
        break;
      }
      case "wildcard": {
        const wrong = schemaError(Wildcard, field, "wildcard");
        if (wrong) errors.push(wrong);
        else if ((field as unknown[]).length > 0) errors.push("wildcard: wildcard domains are not supported");
        break;
      }
      case "framework": {
        const wrong = schemaError(Framework, field, "framework");
        if (wrong) errors.push(wrong);
        break;
      }
      case "cache":
        // Build cache globs: they matter to Vercel's build step, not to serving.
        if (!Array.isArray(field) || !field.every((glob) => typeof glob === "string"))
          errors.push("cache: must be an array of strings");
        break;
      case "deploymentId":
        warn("deploymentId: ignored (no skew protection: each deployment keeps its own immutable URL)");
        break;
      case "flags":
        warn("flags: ignored (feature flag definitions are for Vercel's toolbar)");
        break;
      case "services":
      case "experimentalServices":
      case "experimentalServicesV2":
        errors.push(`${name}: multi-service deployments are not supported`);
        break;
      default:
        errors.push(`${name}: unknown field`);
    }
  }
  for (const message of errors) refuse(message);
  const refused = problems.some((problem) => problem.severity === "error");
  return { config: refused ? null : config, problems };
}

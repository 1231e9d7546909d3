// Project settings validation: one function used by the API and the dashboard alike.

import { invalid } from "../errors.ts";
import type { ProjectSettings } from "./entities.ts";
import {
  assertProjectName,
  assertSubdomain,
  domainProblem,
  MAX_SUBDOMAIN,
  slugify,
  subdomainProblem,
} from "./names.ts";

export interface SettingsRules {
  baseDomain: string;
  sitesDomain: string;
  /** file:// and absolute local paths as git URLs (tests and single-user setups only). */
  allowLocalGit: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export function gitUrlProblem(value: string, allowLocal: boolean): string | null {
  if (value.length > 2048) return "must be at most 2048 characters";
  if (CONTROL.test(value) || /\s/.test(value)) return "must not contain spaces or control characters";
  // A leading dash would be read by git as an option.
  if (value.startsWith("-")) return "must not start with '-'";
  if (/^git@[A-Za-z0-9][A-Za-z0-9.-]*:[A-Za-z0-9._~/-]+$/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return allowLocal && value.startsWith("/") ? null : "must be an https://, ssh:// or git@host:path URL";
  }
  if (
    url.protocol === "https:" ||
    url.protocol === "http:" ||
    url.protocol === "ssh:" ||
    url.protocol === "git:"
  ) {
    if (!url.hostname) return "must name a host";
    // ssh would read a host such as "-oProxyCommand=..." as an option (CVE-2017-1000117).
    return url.hostname.startsWith("-") ? "must not have a host starting with '-'" : null;
  }
  if (url.protocol === "file:" && allowLocal) return null;
  return "must be an https://, ssh:// or git@host:path URL";
}

export function branchProblem(value: string): string | null {
  if (value.length === 0 || value.length > 255) return "must be 1 to 255 characters";
  if (!/^[A-Za-z0-9._/+-]+$/.test(value)) return "may contain only letters, digits and . _ / + -";
  if (value.startsWith("-") || value.startsWith("/") || value.endsWith("/") || value.endsWith(".lock")) {
    return "is not a valid git branch name";
  }
  if (value.includes("..") || value.includes("//") || value.includes("/."))
    return "is not a valid git branch name";
  return null;
}

export function commitProblem(value: string): string | null {
  return /^[0-9a-f]{7,40}$/.test(value) ? null : "must be a 7 to 40 character hex commit id";
}

function relativeDir(value: string, field: string): string {
  const trimmed = value
    .trim()
    .replace(/^\.\/+/, "")
    .replace(/\/+$/, "");
  if (trimmed === "" || trimmed === ".") return "";
  if (trimmed.length > 255) throw invalid(`${field} must be at most 255 characters`, field);
  if (CONTROL.test(trimmed) || trimmed.includes("\\"))
    throw invalid(`${field} contains invalid characters`, field);
  if (
    trimmed.startsWith("/") ||
    trimmed.split("/").some((part) => part === ".." || part === "." || part === "")
  ) {
    throw invalid(`${field} must be a relative path inside the repository`, field);
  }
  return trimmed;
}

function command(value: string, field: string): string {
  if (value.length > 1000) throw invalid(`${field} must be at most 1000 characters`, field);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting NUL and newlines is the point
  if (/[\u0000\r\n]/.test(value)) throw invalid(`${field} must be a single line`, field);
  return value.trim();
}

const nonEmpty = (v: string | null | undefined): string | null =>
  v === undefined || v === null || v === "" ? null : v;

/** A subdomain from a display name; a reserved or empty one gets a random suffix (as Vercel does). */
export function derivedSubdomain(name: string, forceSuffix = false): string {
  const slug = slugify(name) || "site";
  if (!forceSuffix && subdomainProblem(slug) === null) return slug;
  const suffix = crypto.randomUUID().slice(0, 6);
  return assertSubdomain(`${slug.slice(0, MAX_SUBDOMAIN - 7).replace(/-+$/, "")}-${suffix}`);
}

/** Validates and normalizes a create (full) or update (partial) request. */
export function normalizeSettings(
  input: Partial<ProjectSettings>,
  rules: SettingsRules,
  mode: "create" | "update",
): Partial<ProjectSettings> {
  const out: Partial<ProjectSettings> = {};
  if (input.name !== undefined) out.name = assertProjectName(input.name);
  if (mode === "create" && out.name === undefined) throw invalid("name is required", "name");
  if (input.subDomain !== undefined) out.subDomain = assertSubdomain(input.subDomain);
  else if (mode === "create" && out.name !== undefined) out.subDomain = derivedSubdomain(out.name);
  if (input.gitUrl !== undefined) {
    const gitUrl = nonEmpty(input.gitUrl);
    const problem = gitUrl === null ? null : gitUrlProblem(gitUrl, rules.allowLocalGit);
    if (problem) throw invalid(`gitUrl ${problem}`, "gitUrl");
    out.gitUrl = gitUrl;
  }
  if (input.customDomain !== undefined) {
    const domain = nonEmpty(input.customDomain?.trim().replace(/\.$/, ""));
    const problem = domain === null ? null : domainProblem(domain, rules.baseDomain, rules.sitesDomain);
    if (problem) throw invalid(`customDomain ${problem}`, "customDomain");
    out.customDomain = domain;
  }
  if (input.productionBranch !== undefined) {
    const problem = branchProblem(input.productionBranch);
    if (problem) throw invalid(`productionBranch ${problem}`, "productionBranch");
    out.productionBranch = input.productionBranch;
  }
  for (const field of ["rootDirectory", "outputDirectory"] as const) {
    const value = input[field];
    if (value !== undefined) out[field] = nonEmpty(value === null ? null : relativeDir(value, field));
  }
  for (const field of ["installCommand", "buildCommand", "startCommand"] as const) {
    const value = input[field];
    if (value !== undefined) out[field] = nonEmpty(value === null ? null : command(value, field));
  }
  if (input.spaFallback !== undefined) out.spaFallback = input.spaFallback;
  if (input.buildTimeoutSeconds !== undefined) {
    const t = input.buildTimeoutSeconds;
    if (t !== null && (!Number.isInteger(t) || t < 10 || t > 6 * 3600)) {
      throw invalid("buildTimeoutSeconds must be a whole number from 10 to 21600", "buildTimeoutSeconds");
    }
    out.buildTimeoutSeconds = t;
  }
  if (input.idleTimeoutMinutes !== undefined) {
    const m = input.idleTimeoutMinutes;
    if (m !== null && (!Number.isInteger(m) || m < 0 || m > 1440))
      throw invalid(
        "idleTimeoutMinutes must be a whole number from 0 (always on) to 1440",
        "idleTimeoutMinutes",
      );
    out.idleTimeoutMinutes = m;
  }
  if (input.maxInstances !== undefined) {
    const n = input.maxInstances;
    if (n !== null && (!Number.isInteger(n) || n < 1 || n > 20))
      throw invalid("maxInstances must be a whole number from 1 to 20", "maxInstances");
    out.maxInstances = n;
  }
  return out;
}

/** The runtime logs' and metrics' name for a deployment's app server (functions are named by their path). */
export const APP_LABEL = "(app server)";

/** An app server's idle time and instance limit when the project leaves them unset. */
export const APP_DEFAULTS = { idleTimeoutMinutes: 15, maxInstances: 1 } as const;

/** Fills the defaults of a new project (everything optional the user left out). */
export function withDefaults(settings: Partial<ProjectSettings>): ProjectSettings {
  return {
    name: settings.name ?? "",
    gitUrl: settings.gitUrl ?? null,
    subDomain: settings.subDomain ?? "",
    customDomain: settings.customDomain ?? null,
    productionBranch: settings.productionBranch ?? "main",
    rootDirectory: settings.rootDirectory ?? null,
    installCommand: settings.installCommand ?? null,
    buildCommand: settings.buildCommand ?? null,
    outputDirectory: settings.outputDirectory ?? null,
    buildTimeoutSeconds: settings.buildTimeoutSeconds ?? null,
    spaFallback: settings.spaFallback ?? true,
    startCommand: settings.startCommand ?? null,
    idleTimeoutMinutes: settings.idleTimeoutMinutes ?? null,
    maxInstances: settings.maxInstances ?? null,
  };
}

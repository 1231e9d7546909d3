// Project naming rules: a subdomain is one DNS label under BASE_DOMAIN, so it must be a safe, unique host part.

import { invalid } from "../errors.ts";

/** Hosts the platform keeps for itself or that would confuse users and browsers. */
const RESERVED = new Set([
  "api",
  "www",
  "admin",
  "dashboard",
  "app",
  "static",
  "assets",
  "cdn",
  "mail",
  "smtp",
  "ftp",
  "localhost",
  "minivercel",
  "git",
  "status",
  "docs",
  "help",
  "support",
  "login",
  "auth",
  "ns1",
  "ns2",
  "_acme-challenge",
]);

export const MAX_SUBDOMAIN = 48;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Returns the reason a subdomain is not acceptable, or null when it is. */
export function subdomainProblem(value: string): string | null {
  if (value.length === 0) return "must not be empty";
  // 48, not 63: deployment and preview hosts append "--<id>" and must still fit in one DNS label.
  if (value.length > MAX_SUBDOMAIN) return `must be at most ${MAX_SUBDOMAIN} characters`;
  if (value !== value.toLowerCase()) return "must be lower case";
  if (!LABEL.test(value))
    return "may contain only a-z, 0-9 and '-', and must start and end with a letter or digit";
  // "--" is how per-deployment and branch URLs are separated (<sub>--<deployment>), so it must stay unambiguous.
  if (value.includes("--")) return "must not contain '--' (reserved for deployment and preview URLs)";
  if (RESERVED.has(value)) return `'${value}' is reserved`;
  return null;
}

export function assertSubdomain(value: string): string {
  const problem = subdomainProblem(value);
  if (problem) throw invalid(`subDomain ${problem}`, "subDomain");
  return value;
}

/** Derive a subdomain suggestion from a display name: "My Site!" -> "my-site". */
export function slugify(name: string): string {
  return (
    name
      .toLowerCase()
      .normalize("NFKD")
      // Drop the combining marks NFKD split off, so "Déjà" becomes "deja", not "de-ja".
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, MAX_SUBDOMAIN)
      .replace(/-+$/g, "")
  );
}

/** Display names: free text, but bounded and printable. */
export function assertProjectName(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalid("name must not be empty", "name");
  if (trimmed.length > 100) throw invalid("name must be at most 100 characters", "name");
  // Control characters would corrupt logs and terminal output.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    throw invalid("name must not contain control characters", "name");
  return trimmed;
}

/** Custom domains: a lower-case host name of at least two labels, not under the platform's own domains. */
export function domainProblem(host: string, baseDomain: string, sitesDomain = baseDomain): string | null {
  if (host.length > 253) return "must be at most 253 characters";
  if (host !== host.toLowerCase()) return "must be lower case";
  const labels = host.split(".");
  if (labels.length < 2) return "must be a fully qualified host name such as www.example.com";
  for (const label of labels) {
    if (!LABEL.test(label)) return `has an invalid label '${label}'`;
  }
  for (const platform of new Set([baseDomain, sitesDomain])) {
    if (host === platform || host.endsWith(`.${platform}`))
      return `must not be under the platform domain ${platform}`;
  }
  return null;
}

/** A branch name as a host-name fragment: "feature/Login_Page" -> "feature-login-page" (at most 63 characters). */
export function branchSlug(branch: string): string {
  return (
    branch
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63)
      .replace(/-+$/g, "") || "branch"
  );
}

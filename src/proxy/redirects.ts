// Proxy: Netlify-format `_redirects` from a deployment's output, parsed once per deployment.
//   /from  /to  [status][!]        status 301 (default), 302, 303, 307, 308; 200 rewrites; 404/410 serve `to`
//   /news/*  /blog/:splat          a final "*" matches the rest of the path (and the bare directory)
//   /posts/:year/:slug  /p/:slug   ":name" matches one segment; both may be used in `to`
// A trailing "!" forces the rule even when a file exists at the path. Lines with query or Country/Language/Role
// conditions, domain-level `from` URLs and 200 rewrites to other origins (proxying) are not supported: skipped.
// A target is a path or an http(s) URL; a protocol-relative one ("//host/") or any other scheme is refused at
// deploy time (site-config.ts) and skipped here.

import type { ConfigReport } from "./headers-file.ts";

export const MAX_REDIRECT_RULES = 2000;

export type RedirectStatus = 200 | 301 | 302 | 303 | 307 | 308 | 404 | 410;

export interface RedirectRule {
  from: string;
  to: string;
  status: RedirectStatus;
  force: boolean;
  pattern: RegExp;
  /** Placeholder names in capture-group order; "splat" for the final "*". */
  names: string[];
}

const STATUSES = new Set<number>([200, 301, 302, 303, 307, 308, 404, 410]);
const NAME = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
const PLACEHOLDER = /:([A-Za-z_][A-Za-z0-9_]*)/g;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export const isRedirect = (status: RedirectStatus): boolean => status >= 301 && status <= 308;

/** `/a/:x/*` -> a RegExp with one group per placeholder; a trailing slash is optional on both sides. */
function compile(from: string): { pattern: RegExp; names: string[] } {
  const segments = from.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  const names: string[] = [];
  let source = "";
  segments.forEach((segment, i) => {
    const name = NAME.exec(segment)?.[1];
    if (segment === "*" && i === segments.length - 1) {
      names.push("splat");
      source += "(?:/(.*))?";
    } else if (name) {
      names.push(name);
      source += "/([^/]+)";
    } else source += `/${escapeRegExp(segment)}`;
  });
  const splat = names.at(-1) === "splat";
  return { pattern: new RegExp(`^${source}${splat ? "" : "/?"}$`), names };
}

const isUrl = (s: string) => /^https?:\/\/[^/\s]/i.test(s);

/** Why a target cannot be used (an error: it would send visitors somewhere the file does not say), or null. */
function targetProblem(to: string): string | null {
  // Browsers read "//host" and "/\host" as another site: written as a path, it is an open redirect.
  if (/^\/[/\\]/.test(to))
    return `the target ${to} is protocol-relative (another host); write it as an https:// URL`;
  if (to.startsWith("/") || isUrl(to)) return null;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(to)) return `the target ${to} has a scheme other than http or https`;
  return `the target ${to} must be a path starting with / or an http(s) URL`;
}

/** Parses the file; lines that are malformed or use unsupported features are skipped (and reported). */
export function parseRedirects(text: string, report: ConfigReport = () => {}): RedirectRule[] {
  const rules: RedirectRule[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const at = index + 1;
    const hash = line.search(/(^|\s)#/);
    const tokens = (hash < 0 ? line : line.slice(0, hash)).trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    if (rules.length >= MAX_REDIRECT_RULES) {
      report(at, `more than ${MAX_REDIRECT_RULES} rules`, "warning");
      break;
    }
    const [from, to, statusToken, ...rest] = tokens;
    if (!from || !to) {
      report(at, "expected 'from to [status]'", "warning");
      continue;
    }
    if (!from.startsWith("/")) {
      report(at, `only paths (starting with /) are supported as the source, not ${from}`, "warning");
      continue;
    }
    const problem = targetProblem(to);
    if (problem) {
      report(at, problem, "error");
      continue;
    }
    if (rest.length > 0) {
      report(at, "conditions (query, Country, Language, Role) are not supported", "warning");
      continue;
    }
    const status = /^(\d{3})(!?)$/.exec(statusToken ?? "301");
    const code = Number(status?.[1]);
    if (!status || !STATUSES.has(code)) {
      report(
        at,
        `status ${statusToken} is not supported (use 200, 301, 302, 303, 307, 308, 404 or 410)`,
        "warning",
      );
      continue;
    }
    const typed = code as RedirectStatus;
    if (!isRedirect(typed) && !to.startsWith("/")) {
      report(at, `status ${code} to another site (proxying) is not supported`, "warning");
      continue;
    }
    rules.push({ from, to, status: typed, force: status[2] === "!", ...compile(from) });
  }
  return rules;
}

export interface RedirectMatch {
  rule: RedirectRule;
  /** Placeholder values (decoded, as in the request path). */
  params: Map<string, string>;
}

/** The first rule matching `path` (decoded, normalized); with `forcedOnly`, the first forced one. */
export function matchRedirect(
  rules: RedirectRule[],
  path: string,
  forcedOnly: boolean,
): RedirectMatch | null {
  for (const rule of rules) {
    if (forcedOnly && !rule.force) continue;
    const found = rule.pattern.exec(path);
    if (!found) continue;
    const params = new Map<string, string>();
    rule.names.forEach((name, i) => {
      params.set(name, found[i + 1] ?? "");
    });
    return { rule, params };
  }
  return null;
}

/** A decoded path or path piece, percent-encoded per segment (for a Location header). */
export const encodePath = (value: string): string => value.split("/").map(encodeURIComponent).join("/");

/**
 * `to` with its placeholders filled in. For redirects (a Location header) the values are percent-encoded
 * per segment; for rewrites they stay decoded, since they name a manifest path. Unknown names stay as written.
 */
export function substitute(match: RedirectMatch, forLocation: boolean): string {
  const filled = match.rule.to.replace(PLACEHOLDER, (whole, name: string) => {
    const value = match.params.get(name);
    if (value === undefined) return whole;
    return forLocation ? encodePath(value) : value;
  });
  // A path target must stay a path on this site, whatever the placeholders held ("//host" is another site).
  return match.rule.to.startsWith("/") ? filled.replace(/^\/[/\\]+/, "/") : filled;
}

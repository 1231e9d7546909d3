// Proxy: Netlify-format `_headers` from a deployment's output, parsed once per deployment.
//   /path/pattern            a path; "*" matches anything (also "/"), ":name" one segment; a final "/*" also
//                            matches the directory itself ("/news/*": /news, /news/x; never /newsletter)
//     Header-Name: value     indented lines below it; every matching block applies, in file order
// The same header from several matching blocks is combined with ", " (Set-Cookie: sent once per value). Headers
// that would break HTTP framing or this server's caching semantics are ignored, and so are values with control
// characters or outside Latin-1 (HTTP cannot carry them), and cookies for other hosts (a `Domain` attribute): a
// site must not plant cookies on its sibling sites or the dashboard. Deploys refuse such files (site-config.ts).

export const MAX_HEADER_RULES = 1000;

export interface HeaderRule {
  path: string;
  pattern: RegExp;
  headers: [name: string, value: string][];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be refused
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const BEYOND_LATIN1 = /[^\t\u0020-\u00ff]/u;
const COOKIE_DOMAIN = /;\s*domain\s*=/i;

/** Several Set-Cookie values of one path travel joined by this (it cannot occur in a value: CONTROL). */
export const COOKIE_SEPARATOR = "\n";

/**
 * A line that is not used, and why; `error`s make a deploy fail (site-config.ts), the rest are notes for the
 * build log. Serving ignores both: the file was checked when it was deployed (or predates the check).
 */
export type ConfigReport = (line: number, message: string, severity: "error" | "warning") => void;

/** Set by the server itself from the manifest and the request; a site must not change them. */
const RESERVED = new Set([
  "accept-ranges",
  "connection",
  "content-encoding",
  "content-length",
  "content-range",
  "date",
  "etag",
  "keep-alive",
  "location",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "vary",
]);

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

function compile(path: string): RegExp {
  // A final "/*" also matches the directory itself, as on Netlify: "/news/*" is "/news" and what is below it.
  const directory = path.endsWith("/*");
  const source = escapeRegExp(directory ? path.slice(0, -2) : path)
    .replace(/:[A-Za-z_][A-Za-z0-9_]*/g, "[^/]+")
    .replace(/\*/g, ".*");
  return new RegExp(`^${source}${directory ? "(?:/.*)?" : ""}$`);
}

/** Why a header line cannot be used, and whether a deploy must be refused for it; null when it is fine. */
function headerProblem(name: string, value: string): [string, "error" | "warning"] | null {
  if (!TOKEN.test(name)) return [`"${name}" is not a valid header name`, "warning"];
  if (RESERVED.has(name)) return [`${name} is set by the server and cannot be changed`, "warning"];
  if (CONTROL.test(value)) return [`the value of ${name} has a control character`, "warning"];
  if (BEYOND_LATIN1.test(value))
    return [
      `the value of ${name} has a character outside Latin-1, which HTTP headers cannot carry (percent-encode it)`,
      "error",
    ];
  if (name === "set-cookie" && COOKIE_DOMAIN.test(value))
    return [
      "Set-Cookie with a Domain attribute would set a cookie for other hosts; drop the attribute",
      "error",
    ];
  return null;
}

export function parseHeaders(text: string, report: ConfigReport = () => {}): HeaderRule[] {
  const rules: HeaderRule[] = [];
  // "skipped": the lines below belong to a block that is ignored (and was reported once).
  let current: HeaderRule | "skipped" | null = null;
  text.split(/\r?\n/).forEach((line, index) => {
    const at = index + 1;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    if (/^\s/.test(line)) {
      if (current === "skipped") return;
      const colon = trimmed.indexOf(":");
      if (!current || colon <= 0) {
        const why = current ? "expected 'Name: value'" : "a header line must follow a path line";
        report(at, why, "warning");
        return;
      }
      const name = trimmed.slice(0, colon).trim().toLowerCase();
      const value = trimmed.slice(colon + 1).trim();
      const problem = headerProblem(name, value);
      if (problem) report(at, problem[0], problem[1]);
      else current.headers.push([name, value]);
      return;
    }
    current = "skipped";
    // Absolute URLs (per-host rules) and anything that is not a path are not supported.
    if (!trimmed.startsWith("/") || /\s/.test(trimmed)) {
      report(at, "only path rules (starting with /) are supported, not this block", "warning");
      return;
    }
    if (rules.length >= MAX_HEADER_RULES) {
      report(at, `more than ${MAX_HEADER_RULES} rules`, "warning");
      return;
    }
    current = { path: trimmed, pattern: compile(trimmed), headers: [] };
    rules.push(current);
  });
  return rules.filter((rule) => rule.headers.length > 0);
}

/** Headers of every block matching `path` (the decoded request path), lowercase names (see COOKIE_SEPARATOR). */
export function matchHeaders(rules: HeaderRule[], path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of rules) {
    if (!rule.pattern.test(path)) continue;
    for (const [name, value] of rule.headers) {
      const before = out[name];
      const separator = name === "set-cookie" ? COOKIE_SEPARATOR : ", ";
      out[name] = before === undefined ? value : `${before}${separator}${value}`;
    }
  }
  return out;
}

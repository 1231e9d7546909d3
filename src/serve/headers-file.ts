// Serve: Netlify-format `_headers` from a deployment's output, parsed once per deployment.
//   /path/pattern            a path; "*" matches anything (also "/"), ":name" one segment; a final "/*" also
//                            matches the directory itself ("/news/*": /news, /news/x; never /newsletter)
//     Header-Name: value     indented lines below it; every matching block applies, in file order
// The same header from several matching blocks is combined with ", ". Headers that would break HTTP framing
// or this server's caching semantics are ignored, and so are values with control characters.

export const MAX_HEADER_RULES = 1000;

export interface HeaderRule {
  path: string;
  pattern: RegExp;
  headers: [name: string, value: string][];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be refused
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

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

export function parseHeaders(text: string): HeaderRule[] {
  const rules: HeaderRule[] = [];
  let current: HeaderRule | null = null;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (/^\s/.test(line)) {
      const colon = trimmed.indexOf(":");
      if (!current || colon <= 0) continue;
      const name = trimmed.slice(0, colon).trim().toLowerCase();
      const value = trimmed.slice(colon + 1).trim();
      if (!TOKEN.test(name) || RESERVED.has(name) || BAD_VALUE.test(value)) continue;
      current.headers.push([name, value]);
      continue;
    }
    current = null;
    // Absolute URLs (per-host rules) and anything that is not a path are not supported.
    if (!trimmed.startsWith("/") || /\s/.test(trimmed) || rules.length >= MAX_HEADER_RULES) continue;
    current = { path: trimmed, pattern: compile(trimmed), headers: [] };
    rules.push(current);
  }
  return rules.filter((rule) => rule.headers.length > 0);
}

/** Headers of every block matching `path` (the decoded request path), lowercase names. */
export function matchHeaders(rules: HeaderRule[], path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of rules) {
    if (!rule.pattern.test(path)) continue;
    for (const [name, value] of rule.headers) {
      const before = out[name];
      out[name] = before === undefined ? value : `${before}, ${value}`;
    }
  }
  return out;
}

// Build Output routes: `$1`, `$name` placeholders in `dest`, `headers` and transforms, filled from the captures
// of `src` and the named captures of `has`. A capture is text from the decoded path or from a header, so it is
// encoded for where it lands: as is in a path, escaped in a query or a URL, so that a visitor's `&` or `?`
// can never add a parameter the adapter did not write.

export interface Captures {
  /** `src`'s groups: 0 the whole match, then 1..n (undefined when a group did not take part). */
  groups: (string | undefined)[];
  /** `src`'s named groups. */
  named: Record<string, string | undefined>;
  /** Named captures of `has` conditions (they win over `src`'s, as in Vercel's routing-utils). */
  has: Record<string, string>;
}

export type Context =
  /** The path of a rewrite destination: decoded text, kept as is. */
  | "path"
  /** A query value or key: percent-encoded. */
  | "query"
  /** The path of a URL sent to the browser (Location): percent-encoded, slashes kept. */
  | "url"
  /** Any other header value: as in a URL, and never a line break. */
  | "header";

const PLACEHOLDER = /\$(\d+|[A-Za-z_][A-Za-z0-9_]*)/g;

/** Characters a URL path keeps as they are (RFC 3986 pchar and `/`, plus the `[`, `]` and `|` browsers keep). */
const PATH_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/[\]|]/gu;

/**
 * Decoded text -> a URL path: everything else percent-encoded as UTF-8, `%`, `?` and `#` included (the text is
 * decoded, so none of them is syntax). A lone surrogate, which no valid UTF-8 decodes to, becomes U+FFFD.
 */
export function encodePathText(text: string): string {
  return text.replace(PATH_UNSAFE, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return "%EF%BF%BD";
    }
  });
}

function encodeFor(value: string, context: Context): string {
  switch (context) {
    case "path":
      return value;
    case "query":
      return encodeURIComponent(value);
    case "url":
    case "header":
      return encodePathText(value);
  }
}

/** What `$key` stands for: a `has` capture, a named group, a group number, or nothing (an empty string). */
export function captureValue(captures: Captures, key: string): string {
  if (Object.hasOwn(captures.has, key)) return captures.has[key] as string;
  if (Object.hasOwn(captures.named, key)) return captures.named[key] ?? "";
  if (/^\d+$/.test(key)) return captures.groups[Number(key)] ?? "";
  return ""; // Vercel replaces unknown placeholders with nothing
}

/** Fills the placeholders of `template` for one context. */
export function substitute(template: string, captures: Captures, context: Context): string {
  if (!template.includes("$")) return template;
  return template.replace(PLACEHOLDER, (_, key: string) => encodeFor(captureValue(captures, key), context));
}

/** A destination split at its first `?` (a `#` fragment is dropped), each part filled for its context. */
export function substituteTarget(
  template: string,
  captures: Captures,
  pathContext: "path" | "url",
): { path: string; query: string } {
  const hash = template.indexOf("#");
  const withoutHash = hash < 0 ? template : template.slice(0, hash);
  const mark = withoutHash.indexOf("?");
  const pathPart = mark < 0 ? withoutHash : withoutHash.slice(0, mark);
  const queryPart = mark < 0 ? "" : withoutHash.slice(mark + 1);
  return {
    path: substitute(pathPart, captures, pathContext),
    query: substitute(queryPart, captures, "query"),
  };
}

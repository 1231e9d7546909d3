// A pasted .env file -> the variables it sets: NAME=value lines, `export ` allowed, comments and blank lines skipped,
// values in single or double quotes unquoted (double quotes know \n, \" and \\). Anything else names its line.

import { invalid } from "../errors.ts";

export interface DotenvEntry {
  line: number;
  key: string;
  value: string;
}

const LINE = /^\s*(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/;

export function parseDotenv(text: string): DotenvEntry[] {
  const entries: DotenvEntry[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "" || raw.trim().startsWith("#")) return;
    const match = LINE.exec(raw);
    if (!match?.[1]) throw invalid(`line ${line} is not NAME=value`, "dotenv");
    entries.push({ line, key: match[1], value: unquote(match[2] ?? "", line) });
  });
  if (entries.length === 0) throw invalid("there is no NAME=value line to save", "dotenv");
  return entries;
}

function unquote(value: string, line: number): string {
  const v = value.trim();
  const quote = v[0];
  if (quote === '"' || quote === "'") {
    const end = v.lastIndexOf(quote);
    if (end === 0) throw invalid(`line ${line}: the value's closing ${quote} is missing`, "dotenv");
    const inner = v.slice(1, end);
    return quote === "'" ? inner : inner.replace(/\\(n|"|\\)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  // Unquoted: a " #" starts a comment.
  const comment = v.search(/\s#/);
  return (comment >= 0 ? v.slice(0, comment) : v).trim();
}

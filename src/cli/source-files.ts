// Collecting a source tree to build on the server: every file but dependencies, VCS metadata, build output
// and what a simple .gitignore at the root excludes; hashed like a build's output.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CollectedFile } from "../../builder/upload.ts";
import { DEFAULT_UPLOAD_LIMITS } from "../../builder/walk.ts";
import { FORBIDDEN_NAME_CHARS, isManifestPath } from "../store/artifacts.ts";
import { formatBytes } from "../utils/bytes.ts";
import { mapLimit } from "../utils/parallel.ts";
import { LINK_FILE } from "./config.ts";
import { CliError } from "./http.ts";

/** Never uploaded, at any depth. */
const SKIP_ANYWHERE = new Set(["node_modules", ".git", ".hg", ".svn", ".DS_Store", LINK_FILE]);
/** Build output and caches at the root: the server builds them again. */
const SKIP_AT_ROOT = new Set([
  "dist",
  "build",
  "out",
  ".next",
  ".nuxt",
  ".output",
  ".svelte-kit",
  ".astro",
  ".docusaurus",
  ".cache",
  ".turbo",
  ".vercel",
  ".parcel-cache",
  "coverage",
]);

/** A .gitignore line: a name or simple glob (`*`, `?`), rooted with a leading "/", directory-only with "/". */
interface IgnoreRule {
  test: RegExp;
  rooted: boolean;
  dirOnly: boolean;
}

/** Reads the root .gitignore's simple rules; negations and patterns with inner slashes are ignored. */
export async function readIgnoreRules(root: string): Promise<IgnoreRule[]> {
  let text: string;
  try {
    text = await readFile(join(root, ".gitignore"), "utf8");
  } catch {
    return [];
  }
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const rooted = line.startsWith("/");
    if (rooted) line = line.slice(1);
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    line = line.replace(/^\*\*\//, "");
    if (line === "" || line.includes("/") || line.includes("[")) continue;
    const pattern = line
      .split("")
      .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|\\]/g, "\\$&")))
      .join("");
    rules.push({ test: new RegExp(`^${pattern}$`), rooted, dirOnly });
  }
  return rules;
}

function ignored(rules: IgnoreRule[], name: string, atRoot: boolean, isDir: boolean): boolean {
  return rules.some((r) => (!r.rooted || atRoot) && (!r.dirOnly || isDir) && r.test.test(name));
}

async function hashFile(abs: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(abs).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** The source files under `root` (symlinks and special files skipped with a warning), within the limits. */
export async function collectSource(root: string, warn: (message: string) => void): Promise<CollectedFile[]> {
  const limits = DEFAULT_UPLOAD_LIMITS;
  const rules = await readIgnoreRules(root);
  const found: { path: string; abs: string; size: number }[] = [];
  let total = 0;
  const descend = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const atRoot = prefix === "";
      const isDir = entry.isDirectory();
      if (SKIP_ANYWHERE.has(entry.name) || (atRoot && isDir && SKIP_AT_ROOT.has(entry.name))) continue;
      if (ignored(rules, entry.name, atRoot, isDir)) continue;
      const path = `${prefix}/${entry.name}`;
      if (FORBIDDEN_NAME_CHARS.test(entry.name) || entry.name.includes("\uFFFD") || !isManifestPath(path)) {
        warn(`skipped ${JSON.stringify(path)}: the name cannot be uploaded`);
        continue;
      }
      const abs = join(dir, entry.name);
      if (isDir) await descend(abs, path);
      else if (entry.isFile()) {
        const { size } = await stat(abs);
        if (size > limits.maxFileBytes)
          throw new CliError(`${path} is ${formatBytes(size)}, over the limit of 100 MB per file`, 2);
        total += size;
        if (found.length >= limits.maxFiles || total > limits.maxTotalBytes)
          throw new CliError(
            `the source has more than ${limits.maxFiles} files or 1 GB; add what need not be built to .gitignore`,
            2,
          );
        found.push({ path, abs, size });
      } else
        warn(`skipped ${JSON.stringify(path)}: ${entry.isSymbolicLink() ? "symlink" : "not a regular file"}`);
    }
  };
  await descend(root, "");
  const files = await mapLimit(found, 8, async (f) => ({
    ...f,
    hash: await hashFile(f.abs),
    type: Bun.file(f.path).type || "application/octet-stream",
  }));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

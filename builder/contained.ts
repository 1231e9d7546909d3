// Paths the host reads from a build's workspace: the checkout, and everything in it, is written by untrusted code
// (a repository's symlinks, a build's commands), so a directory named by text is trusted only once its real path,
// every symlink resolved, is seen to lie inside the checkout's real path.

import { realpath, stat } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { badRequest } from "../src/errors.ts";

/** Whether `path` is `root` or lies under it; both must already be real (resolved) absolute paths. */
export function isWithin(root: string, path: string): boolean {
  if (path === root) return true;
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** `sub` (relative, as a user wrote it) joined to `root`, refused when its text alone leaves `root`. */
export function joinInside(root: string, sub: string | null, what: string): string {
  const target = resolve(root, sub ?? "");
  const rel = relative(root, target);
  if (rel.startsWith("..") || resolve(root, rel) !== target)
    throw badRequest(`${what} points outside the repository`);
  return target;
}

/**
 * The real path of the directory `sub` names under `root`, which must stay inside `boundary` (a real path) once
 * every symlink on the way is resolved: a repository holding `out -> ../../..` or `out -> /` and setting
 * `outputDirectory: out` must not publish the host's files. Missing directories are reported as such.
 */
export async function realDirInside(
  boundary: string,
  root: string,
  sub: string | null,
  what: string,
  missing = `${what} ${shown(sub)} does not exist in the repository`,
): Promise<string> {
  const target = joinInside(root, sub, what);
  let real: string;
  try {
    real = await realpath(target);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : null;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") throw badRequest(missing);
    throw error;
  }
  if (!isWithin(boundary, real))
    throw badRequest(
      `${what} ${shown(sub)} resolves outside the repository through a symbolic link; refusing to read it`,
    );
  if (!(await stat(real)).isDirectory()) throw badRequest(`${what} ${shown(sub)} is not a directory`);
  return real;
}

const shown = (sub: string | null): string => JSON.stringify(sub ?? "");

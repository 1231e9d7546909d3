// Build Output API v3, the functions: every `functions/**/<name>.func` directory (or symlink to one, for functions
// that share a bundle) with its `.vc-config.json`, its files as a plain tree (symlinks followed only inside
// .vercel/output, files of `filePathMap` only inside the repository), and its prerender config and fallback.

import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { badRequest } from "../src/errors.ts";
import { isManifestPath } from "../src/store/artifacts.ts";
import { hashAll, sha256 } from "./blobs.ts";
import { isWithin, joinInside } from "./contained.ts";
import { typeOf } from "./upload.ts";
import { type FunctionConfig, parseFunctionConfig, parsePrerenderConfig } from "./vc-config.ts";
import { type Budget, walk } from "./walk.ts";

/** A configuration file held in memory: small, read once, stored as a blob. */
export interface ConfigBlob {
  path: string;
  bytes: Uint8Array;
  hash: string;
  size: number;
}

export interface FunctionFileFound {
  /** Relative to the .func directory: "index.mjs", "node_modules/a/b.js". */
  name: string;
  /** Where it is read from, for messages. */
  path: string;
  abs: string;
  hash: string;
  size: number;
  executable: boolean;
}

export interface CollectedFunction {
  /** The path it answers at: "/api/hello" for functions/api/hello.func. */
  path: string;
  config: ConfigBlob;
  parsed: FunctionConfig;
  files: FunctionFileFound[];
  prerender?: ConfigBlob;
  fallback?: { path: string; abs: string; hash: string; size: number; type: string };
}

const MAX_CONFIG_BYTES = 1024 * 1024;
const BOUNDARY = ".vercel/output";

/** Reads a small file whose real path must stay inside `boundary`; what the messages call it is `shown`. */
export async function readInside(abs: string, boundary: string, shown: string, max = MAX_CONFIG_BYTES) {
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    throw badRequest(`${shown} is missing (or a broken symbolic link)`);
  }
  if (!isWithin(boundary, real))
    throw badRequest(`${shown} resolves outside ${BOUNDARY} through a symbolic link; refusing to read it`);
  const info = await stat(real);
  if (!info.isFile()) throw badRequest(`${shown} is not a regular file`);
  if (info.size > max) throw badRequest(`${shown} is larger than ${Math.round(max / 1024)} KB`);
  const bytes = await Bun.file(real).bytes();
  return { path: shown, bytes, hash: sha256(bytes), size: bytes.byteLength };
}

interface Entry {
  /** Relative to functions/: "api/users/[id].func". */
  rel: string;
  /** Real path of the directory holding the entry. */
  dir: string;
  name: string;
}

/**
 * The .func entries and prerender configs under functions/ (a real directory inside `output`); folders are
 * followed while they stay inside `output`, counted against the deployment's directories.
 */
async function scan(root: string, output: string, counted: Budget, warn: (message: string) => void) {
  const funcs: Entry[] = [];
  const prerenders = new Map<string, Entry>();
  const ancestors = new Set<string>();
  const descend = async (dir: string, prefix: string): Promise<void> => {
    counted.directory();
    ancestors.add(dir);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      const found = { rel, dir, name: entry.name };
      if (entry.name.endsWith(".func")) funcs.push(found);
      else if (entry.name.endsWith(".prerender-config.json"))
        prerenders.set(rel.slice(0, -".prerender-config.json".length), found);
      // Fallbacks are read through the prerender config naming them.
      else if (/\.prerender-fallback\.[^/]+$/.test(entry.name)) continue;
      else if (entry.isDirectory() || entry.isSymbolicLink()) {
        const real = await realpath(join(dir, entry.name)).catch(() => null);
        const folder = real !== null && isWithin(output, real) && (await stat(real)).isDirectory();
        if (real !== null && folder && !ancestors.has(real)) await descend(real, rel);
        else
          warn(
            `ignored functions/${rel}: not a folder inside ${BOUNDARY} (a broken, looping or outside link)`,
          );
      } else warn(`ignored functions/${rel}: not a .func directory, a prerender config or a fallback`);
    }
    ancestors.delete(dir);
  };
  await descend(root, "");
  return { funcs, prerenders };
}

/** The real path of a .func directory, which must be a directory inside .vercel/output. */
async function funcDir(entry: Entry, fn: string, output: string): Promise<string> {
  const where = `functions/${entry.rel}`;
  const real = await realpath(join(entry.dir, entry.name)).catch(() => null);
  if (real === null) throw badRequest(`function "${fn}": ${where} is a broken or looping symbolic link`);
  if (!isWithin(output, real))
    throw badRequest(
      `function "${fn}": ${where} resolves outside ${BOUNDARY} through a symbolic link; refusing to read it`,
    );
  if (!(await stat(real)).isDirectory()) throw badRequest(`function "${fn}": ${where} is not a directory`);
  return real;
}

/** Files of `filePathMap`: each one from the repository (`checkout`, a real path), never from outside it. */
async function mappedFiles(fn: string, map: Record<string, string>, checkout: string, counted: Budget) {
  const found: Omit<FunctionFileFound, "hash">[] = [];
  for (const [name, source] of Object.entries(map)) {
    const shown = `function "${fn}": filePathMap entry ${JSON.stringify(source)}`;
    const real = await realpath(joinInside(checkout, source, shown)).catch(() => null);
    if (real === null) throw badRequest(`${shown} is not in the repository`);
    if (!isWithin(checkout, real))
      throw badRequest(
        `${shown} resolves outside the repository through a symbolic link; refusing to read it`,
      );
    const info = await stat(real);
    if (!info.isFile()) throw badRequest(`${shown} is not a regular file`);
    counted.file(`${fn}/${name}`, info.size);
    found.push({ name, path: source, abs: real, size: info.size, executable: (info.mode & 0o111) !== 0 });
  }
  return found;
}

/** One function: its config, files, prerender config and fallback; refuses anything it cannot run, naming it. */
async function collectOne(
  entry: Entry,
  prerender: Entry | undefined,
  ctx: { output: string; checkout: string; counted: Budget; log: (message: string) => void },
): Promise<CollectedFunction> {
  const path = `/${entry.rel.slice(0, -".func".length)}`;
  if (!isManifestPath(path) || path.endsWith("/"))
    throw badRequest(`functions/${entry.rel}: not a usable function path`);
  const dir = await funcDir(entry, path, ctx.output);
  const config = await readInside(
    join(dir, ".vc-config.json"),
    ctx.output,
    `function "${path}": .vc-config.json`,
  );
  const { config: parsed, notes } = parseFunctionConfig(path, new TextDecoder().decode(config.bytes));
  for (const note of notes) ctx.log(note);

  const own = await walk(dir, ctx.counted, {
    boundary: ctx.output,
    boundaryName: BOUNDARY,
    skip: (p) => p === "/.vc-config.json",
    problem: (message) => {
      throw badRequest(`function "${path}": ${message}`);
    },
  });
  const names = new Set(own.map((f) => f.path.slice(1)));
  const extra = (await mappedFiles(path, parsed.filePathMap, ctx.checkout, ctx.counted)).filter(
    (f) => !names.has(f.name),
  );
  const listed = [...own.map((f) => ({ ...f, name: f.path.slice(1), path: `${path}${f.path}` })), ...extra];
  if (!listed.some((f) => f.name === parsed.entry)) {
    const field = parsed.kind === "edge" ? "entrypoint" : "handler";
    throw badRequest(`function "${path}": ${field} "${parsed.entry}" is not a file of the function`);
  }
  const files = await hashAll(listed);

  const out: CollectedFunction = { path, config, parsed, files };
  if (!prerender) return out;
  out.prerender = await readInside(
    join(prerender.dir, prerender.name),
    ctx.output,
    `function "${path}": functions/${prerender.rel}`,
  );
  const { fallback } = parsePrerenderConfig(path, new TextDecoder().decode(out.prerender.bytes));
  if (fallback === null) return out;
  const shown = `function "${path}": prerender fallback ${JSON.stringify(fallback)}`;
  const real = await realpath(join(prerender.dir, fallback)).catch(() => null);
  if (real === null) throw badRequest(`${shown} is missing`);
  if (!isWithin(ctx.output, real))
    throw badRequest(`${shown} resolves outside ${BOUNDARY} through a symbolic link; refusing to read it`);
  const info = await stat(real);
  if (!info.isFile()) throw badRequest(`${shown} is not a regular file`);
  ctx.counted.file(`${path} (fallback)`, info.size);
  const [hashed] = await hashAll([{ path: `${path} (fallback)`, abs: real, size: info.size }]);
  if (!hashed) throw badRequest(`${shown} could not be read`);
  out.fallback = { ...hashed, type: typeOf(fallback) };
  return out;
}

/**
 * Every function under `functionsDir` (the real path of .vercel/output/functions), in path order. `output` is the
 * real path of .vercel/output (the boundary of symlinks), `checkout` the repository's (for filePathMap).
 */
export async function collectFunctions(
  functionsDir: string,
  ctx: { output: string; checkout: string; counted: Budget; log: (message: string) => void },
): Promise<CollectedFunction[]> {
  const { funcs, prerenders } = await scan(functionsDir, ctx.output, ctx.counted, (m) =>
    ctx.log(`warning: ${m}`),
  );
  const out: CollectedFunction[] = [];
  for (const entry of funcs) {
    const key = entry.rel.slice(0, -".func".length);
    const fn = await collectOne(entry, prerenders.get(key), ctx);
    prerenders.delete(key);
    out.push(fn);
  }
  for (const stray of prerenders.values())
    ctx.log(
      `warning: ignored functions/${stray.rel}: there is no function ${stray.rel.replace(/\.prerender-config\.json$/, ".func")}`,
    );
  return out;
}

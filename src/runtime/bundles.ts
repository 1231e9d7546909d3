// Function bundles on this machine: a function's files written from the artifact store into a directory named by
// the hash of its manifest entry, once, and reused by every instance and every deployment with the same function.
// Written to a temporary directory, checked blob by blob against its hash, then renamed: a bundle directory that
// exists is complete. Instances see it read-only (src/runtime/instances.ts).

import { chmod, mkdir, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type FunctionSpec, parseFunctionConfig } from "../model/function-config.ts";
import type { Artifacts, FunctionFile, ManifestFunction } from "../store/artifacts.ts";
import { mapLimit } from "../utils/parallel.ts";

const WRITE_PARALLELISM = 8;

export interface Bundle {
  /** Host directory holding the function's files. */
  dir: string;
  spec: FunctionSpec;
}

export interface Bundles {
  /** The function's files on disk and how to run them; throws when a blob is missing or its config is invalid. */
  prepare(fn: ManifestFunction): Promise<Bundle>;
  /** An app server's files on disk (the same store, keyed by the files' own hashes); the host directory. */
  prepareFiles(files: Record<string, FunctionFile>): Promise<string>;
  /** Deletes bundles not used for `olderThanMs` (by their directory's modification time, touched on use). */
  prune(olderThanMs: number): Promise<number>;
}

const sha256 = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

export function openBundles(artifacts: Pick<Artifacts, "getBlob">, root: string): Bundles {
  const preparing = new Map<string, Promise<Bundle>>();
  const preparingFiles = new Map<string, Promise<string>>();

  async function text(hash: string, what: string): Promise<string> {
    const blob = await artifacts.getBlob(hash);
    if (!blob) throw new Error(`the function's ${what} is no longer stored`);
    return blob.text();
  }

  async function specOf(fn: ManifestFunction): Promise<FunctionSpec> {
    const parsed = parseFunctionConfig(await text(fn.config.hash, ".vc-config.json"));
    if ("problem" in parsed) throw new Error(`the function cannot run: ${parsed.problem}`);
    return parsed.spec;
  }

  async function write(fn: Pick<ManifestFunction, "files">, dir: string): Promise<void> {
    const temp = `${dir}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await mkdir(temp, { recursive: true, mode: 0o755 });
    try {
      await mapLimit(Object.entries(fn.files), WRITE_PARALLELISM, async ([path, file]) => {
        const blob = await artifacts.getBlob(file.hash);
        if (!blob) throw new Error(`the function's file ${path} is no longer stored`);
        const bytes = await blob.bytes();
        if (sha256(bytes) !== file.hash)
          throw new Error(`the function's file ${path} does not match its hash`);
        const target = join(temp, path);
        await mkdir(dirname(target), { recursive: true, mode: 0o755 });
        await writeFile(target, bytes);
        // Readable by the instance's own uid; never writable by it.
        await chmod(target, file.executable ? 0o755 : 0o644);
      });
      await rename(temp, dir).catch(async (error: unknown) => {
        // Another process wrote the same bundle first: theirs is as good as ours.
        if ((await stat(dir).catch(() => null))?.isDirectory()) return;
        throw error;
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  async function prepare(fn: ManifestFunction): Promise<Bundle> {
    const key = sha256(JSON.stringify(fn));
    const dir = join(root, key);
    const spec = await specOf(fn);
    const existing = await stat(dir).catch(() => null);
    if (existing?.isDirectory()) {
      const now = new Date();
      await utimes(dir, now, now).catch(() => undefined);
    } else await write(fn, dir);
    return { dir, spec };
  }

  async function prepareFiles(files: Record<string, FunctionFile>): Promise<string> {
    const dir = join(root, `app-${sha256(JSON.stringify(files))}`);
    const existing = await stat(dir).catch(() => null);
    if (existing?.isDirectory()) {
      const now = new Date();
      await utimes(dir, now, now).catch(() => undefined);
    } else await write({ files }, dir);
    return dir;
  }

  return {
    prepareFiles(files) {
      const key = sha256(JSON.stringify(files));
      let pending = preparingFiles.get(key);
      if (!pending) {
        pending = prepareFiles(files).finally(() => preparingFiles.delete(key));
        preparingFiles.set(key, pending);
      }
      return pending;
    },
    prepare(fn) {
      const key = sha256(JSON.stringify(fn));
      let pending = preparing.get(key);
      if (!pending) {
        pending = prepare(fn).finally(() => preparing.delete(key));
        preparing.set(key, pending);
      }
      return pending;
    },
    async prune(olderThanMs) {
      let removed = 0;
      const cutoff = Date.now() - olderThanMs;
      for (const name of await readdir(root).catch(() => [] as string[])) {
        const dir = join(root, name);
        const info = await stat(dir).catch(() => null);
        if (!info || info.mtimeMs > cutoff) continue;
        await rm(dir, { recursive: true, force: true });
        removed += 1;
      }
      return removed;
    },
  };
}

// Source step for an uploaded tree (CLI `deploy` of a source folder): write its files from the artifact
// store into the empty checkout, each checked against its hash, instead of cloning a repository.

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Artifacts } from "../src/store/artifacts.ts";
import { mapLimit } from "../src/utils/parallel.ts";

const PARALLELISM = 8;

/** Writes the manifest's files under `dir` (paths are validated manifest paths: no "..", no empty parts). */
export async function materializeSource(
  artifacts: Artifacts,
  manifestId: string,
  dir: string,
): Promise<number> {
  const manifest = await artifacts.getManifest(manifestId);
  if (!manifest) throw new Error("the uploaded source is no longer stored");
  const entries = Object.entries(manifest.files);
  await mapLimit(entries, PARALLELISM, async ([path, file]) => {
    const blob = await artifacts.getBlob(file.hash);
    if (!blob) throw new Error(`the uploaded file ${path} is no longer stored`);
    const bytes = await blob.bytes();
    if (new Bun.CryptoHasher("sha256").update(bytes).digest("hex") !== file.hash)
      throw new Error(`the uploaded file ${path} does not match its hash`);
    const target = join(dir, path.slice(1));
    await mkdir(dirname(target), { recursive: true });
    await Bun.write(target, bytes);
  });
  return entries.length;
}

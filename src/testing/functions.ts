// Test support for the function runtime: a function stored in the artifact store as a build would leave it.

import type { Artifacts, ManifestFunction } from "../store/artifacts.ts";

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Stores a function made of `files` (path -> source) with this .vc-config.json (Node.js, index.mjs by default). */
export async function storeFunction(
  artifacts: Pick<Artifacts, "putBlob">,
  files: Record<string, string>,
  config: Record<string, unknown> = {},
): Promise<ManifestFunction> {
  const vc = JSON.stringify({
    runtime: "nodejs20.x",
    handler: "index.mjs",
    launcherType: "Nodejs",
    ...config,
  });
  const out: ManifestFunction = { config: { hash: sha256(vc), size: Buffer.byteLength(vc) }, files: {} };
  await artifacts.putBlob(sha256(vc), new TextEncoder().encode(vc));
  for (const [path, source] of Object.entries(files)) {
    await artifacts.putBlob(sha256(source), new TextEncoder().encode(source));
    out.files[path] = { hash: sha256(source), size: Buffer.byteLength(source) };
  }
  return out;
}

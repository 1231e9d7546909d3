// The artifacts contract: the same cases run against every Artifacts implementation (disk, later S3).

import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import type { Artifacts, Manifest } from "./artifacts.ts";

export const sha256 = (data: Uint8Array | string): string =>
  new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Random content, so cases never collide with each other's blobs in a shared store. */
export function blob(label = "blob"): { data: Uint8Array<ArrayBuffer>; hash: string } {
  const data = new Uint8Array(new TextEncoder().encode(`${label} ${crypto.randomUUID()}\n`));
  return { data, hash: sha256(data) };
}

export async function expectCode(promise: Promise<unknown>, code: AppError["code"]): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe(code);
  return appError;
}

function manifest(deploymentId: string, files: Manifest["files"]): Manifest {
  return { version: 1, deploymentId, createdAt: new Date().toISOString(), files };
}

/** Everything a listing yields, for assertions. */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export interface ContractOptions {
  /** The store refreshes a claimed blob's storedAt only when it is older than this (S3's claimAfterMs). */
  claimAfterMs?: number;
}

/** `open` returns a ready store; each case uses fresh content and ids, so one store may be shared. */
export function artifactsContract(
  name: string,
  open: () => Promise<Artifacts>,
  options: ContractOptions = {},
): void {
  describe(`artifacts contract: ${name}`, () => {
    test("missing() lists only what is not stored, once each", async () => {
      const store = await open();
      const a = blob("a");
      const b = blob("b");
      expect((await store.missing([a.hash, b.hash, a.hash])).sort()).toEqual([a.hash, b.hash].sort());
      await store.putBlob(a.hash, a.data);
      expect(await store.missing([a.hash, b.hash])).toEqual([b.hash]);
      expect(await store.missing([])).toEqual([]);
    });

    test("blob round trip from bytes and from a Blob", async () => {
      const store = await open();
      const a = blob("bytes");
      await store.putBlob(a.hash, a.data);
      expect(new Uint8Array(await ((await store.getBlob(a.hash)) as Blob).arrayBuffer())).toEqual(a.data);
      const b = blob("Blob");
      await store.putBlob(b.hash, new Blob([b.data]));
      expect(await ((await store.getBlob(b.hash)) as Blob).text()).toBe(new TextDecoder().decode(b.data));
      const empty = new Uint8Array(0);
      await store.putBlob(sha256(empty), empty);
      expect((await store.getBlob(sha256(empty)))?.size).toBe(0);
    });

    test("getBlob of an unknown hash is null", async () => {
      const store = await open();
      expect(await store.getBlob(blob().hash)).toBeNull();
    });

    test("a wrong hash is refused and stores nothing", async () => {
      const store = await open();
      const a = blob("claimed");
      const other = blob("actual");
      await expectCode(store.putBlob(a.hash, other.data), "bad_request");
      await expectCode(store.putBlob(a.hash, new Blob([other.data])), "bad_request");
      expect(await store.missing([a.hash, other.hash])).toEqual([a.hash, other.hash]);
      expect(await store.getBlob(a.hash)).toBeNull();
      // Once stored, a mismatching put is still refused and the stored content is untouched.
      await store.putBlob(a.hash, a.data);
      await expectCode(store.putBlob(a.hash, other.data), "bad_request");
      expect(await ((await store.getBlob(a.hash)) as Blob).text()).toBe(new TextDecoder().decode(a.data));
    });

    test("putting an existing blob again is a no-op", async () => {
      const store = await open();
      const a = blob();
      await store.putBlob(a.hash, a.data);
      await store.putBlob(a.hash, a.data);
      await store.putBlob(a.hash, new Blob([a.data]));
      expect(await store.missing([a.hash])).toEqual([]);
      expect((await store.getBlob(a.hash))?.size).toBe(a.data.length);
    });

    test("concurrent puts of the same blob all succeed", async () => {
      const store = await open();
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) & 0xff);
      big.set(new TextEncoder().encode(crypto.randomUUID()));
      const hash = sha256(big);
      await Promise.all(
        Array.from({ length: 16 }, (_, i) => store.putBlob(hash, i % 2 ? big : new Blob([big]))),
      );
      const stored = await store.getBlob(hash);
      expect(stored?.size).toBe(big.length);
      expect(sha256(new Uint8Array(await (stored as Blob).arrayBuffer()))).toBe(hash);
    });

    test("manifest round trip, replace and delete", async () => {
      const store = await open();
      const html = blob("<html>");
      const js = blob("js");
      await store.putBlob(html.hash, html.data);
      await store.putBlob(js.hash, js.data);
      const id = crypto.randomUUID();
      expect(await store.getManifest(id)).toBeNull();
      const m = manifest(id, {
        "/index.html": { hash: html.hash, size: html.data.length, type: "text/html;charset=utf-8" },
        "/assets/app.js": { hash: js.hash, size: js.data.length, type: "text/javascript;charset=utf-8" },
        "/copy.html": { hash: html.hash, size: html.data.length, type: "text/html;charset=utf-8" },
      });
      await store.putManifest(m);
      expect(await store.getManifest(id)).toEqual(m);
      const replaced = manifest(id, { "/only.js": m.files["/assets/app.js"] as Manifest["files"][string] });
      await store.putManifest(replaced);
      expect(await store.getManifest(id)).toEqual(replaced);
      await store.deleteManifest(id);
      expect(await store.getManifest(id)).toBeNull();
      await store.deleteManifest(id);
      // The blobs stay: other deployments may share them.
      expect(await store.missing([html.hash, js.hash])).toEqual([]);
    });

    test("compressed variants round trip and must be stored blobs of the stated size", async () => {
      const store = await open();
      const js = blob("js original");
      const gz = blob("js gzip");
      const br = blob("js br");
      for (const b of [js, gz, br]) await store.putBlob(b.hash, b.data);
      const id = crypto.randomUUID();
      const file = {
        hash: js.hash,
        size: js.data.length,
        type: "text/javascript;charset=utf-8",
        gzip: { hash: gz.hash, size: gz.data.length },
        br: { hash: br.hash, size: br.data.length },
      };
      await store.putManifest(manifest(id, { "/app.js": file }));
      expect((await store.getManifest(id))?.files["/app.js"]).toEqual(file);
      const absent = blob("absent variant");
      await expectCode(
        store.putManifest(
          manifest(crypto.randomUUID(), { "/app.js": { ...file, br: { hash: absent.hash, size: 3 } } }),
        ),
        "bad_request",
      );
      await expectCode(
        store.putManifest(
          manifest(crypto.randomUUID(), { "/app.js": { ...file, gzip: { hash: gz.hash, size: 1 } } }),
        ),
        "bad_request",
      );
      await expectCode(
        store.putManifest(
          manifest(crypto.randomUUID(), { "/app.js": { ...file, gzip: { hash: "nothex", size: 1 } } }),
        ),
        "bad_request",
      );
    });

    test("a manifest referencing a missing blob is refused and not stored", async () => {
      const store = await open();
      const present = blob("present");
      const absent = blob("absent");
      await store.putBlob(present.hash, present.data);
      const id = crypto.randomUUID();
      const error = await expectCode(
        store.putManifest(
          manifest(id, {
            "/a.txt": { hash: present.hash, size: present.data.length, type: "text/plain" },
            "/b.txt": { hash: absent.hash, size: absent.data.length, type: "text/plain" },
          }),
        ),
        "bad_request",
      );
      expect(error.message).toContain(absent.hash);
      expect(await store.getManifest(id)).toBeNull();
    });

    test("a version 2 manifest: its Build Output config and functions round trip, each blob must be stored", async () => {
      const store = await open();
      const [page, config, vc, entry, dep, missing] = ["page", "config", "vc", "entry", "dep", "missing"].map(
        (label) => blob(label),
      );
      for (const b of [page, config, vc, entry, dep]) if (b) await store.putBlob(b.hash, b.data);
      if (!page || !config || !vc || !entry || !dep || !missing) throw new Error("blobs");
      const ref = (b: { data: Uint8Array; hash: string }) => ({ hash: b.hash, size: b.data.length });
      const id = crypto.randomUUID();
      const v2: Manifest = {
        version: 2,
        deploymentId: id,
        createdAt: new Date().toISOString(),
        files: { "/index.html": { ...ref(page), type: "text/html" } },
        buildOutput: { config: ref(config) },
        functions: {
          "/api/hello": {
            config: ref(vc),
            files: { "index.mjs": { ...ref(entry), executable: true }, "node_modules/x/index.js": ref(dep) },
          },
        },
      };
      await store.putManifest(v2);
      expect(await store.getManifest(id)).toEqual(v2);

      // A function file not stored, a bad bundle path: refused, nothing stored.
      const other = crypto.randomUUID();
      const withMissing: Manifest = {
        ...v2,
        deploymentId: other,
        functions: { "/api/x": { config: ref(vc), files: { "index.mjs": ref(missing) } } },
      };
      const error = await expectCode(store.putManifest(withMissing), "bad_request");
      expect(error.message).toContain(missing.hash);
      const escaping = {
        ...v2,
        deploymentId: other,
        functions: { "/f": { config: ref(vc), files: { "../x": ref(dep) } } },
      };
      await expectCode(store.putManifest(escaping), "bad_request");
      expect(await store.getManifest(other)).toBeNull();
    });

    test("listings: every stored blob with its storedAt, every manifest id", async () => {
      const store = await open();
      const a = blob("listed a");
      const b = blob("listed b");
      const before = Date.now();
      await store.putBlob(a.hash, a.data);
      await store.putBlob(b.hash, b.data);
      const id = crypto.randomUUID();
      await store.putManifest(
        manifest(id, { "/a": { hash: a.hash, size: a.data.length, type: "text/plain" } }),
      );
      const blobs = new Map((await collect(store.listBlobs())).map((x) => [x.hash, x.storedAt]));
      for (const h of [a.hash, b.hash]) {
        const storedAt = blobs.get(h);
        expect(storedAt).toBeInstanceOf(Date);
        // Some stores keep whole seconds only.
        expect(Math.abs((storedAt?.getTime() ?? 0) - before)).toBeLessThan(60_000);
      }
      expect(await collect(store.listManifests())).toContain(id);
      await store.deleteManifest(id);
      expect(await collect(store.listManifests())).not.toContain(id);
    });

    test("deleteBlob deletes only a blob stored before the given time", async () => {
      const store = await open();
      const a = blob("collectable");
      await store.putBlob(a.hash, a.data);
      expect(await store.deleteBlob(a.hash, new Date(Date.now() - 60_000))).toBe(false);
      expect(await store.missing([a.hash])).toEqual([]);
      expect(await store.deleteBlob(a.hash, new Date(Date.now() + 60_000))).toBe(true);
      expect(await store.getBlob(a.hash)).toBeNull();
      expect(await store.missing([a.hash])).toEqual([a.hash]);
      expect((await collect(store.listBlobs())).map((x) => x.hash)).not.toContain(a.hash);
      expect(await store.deleteBlob(a.hash, new Date(Date.now() + 60_000))).toBe(false);
      await expectCode(store.deleteBlob("../x", new Date()), "bad_request");
      // Stored again after a deletion: an ordinary blob.
      await store.putBlob(a.hash, a.data);
      expect(await store.missing([a.hash])).toEqual([]);
    });

    test.skipIf((options.claimAfterMs ?? 0) > 0)(
      "missing() and putBlob() claim a stored blob: a deletion of older blobs keeps it",
      async () => {
        const store = await open();
        const [viaMissing, viaPut, unclaimed] = [blob("claimed"), blob("put again"), blob("unclaimed")];
        for (const b of [viaMissing, viaPut, unclaimed]) await store.putBlob(b.hash, b.data);
        // Whole seconds either side of the cutoff, for stores that keep whole seconds.
        await Bun.sleep(1100);
        const cutoff = new Date();
        await Bun.sleep(1100);
        expect(await store.missing([viaMissing.hash])).toEqual([]);
        await store.putBlob(viaPut.hash, viaPut.data);
        expect(await store.deleteBlob(viaMissing.hash, cutoff)).toBe(false);
        expect(await store.deleteBlob(viaPut.hash, cutoff)).toBe(false);
        expect(await store.deleteBlob(unclaimed.hash, cutoff)).toBe(true);
        expect(await store.missing([viaMissing.hash, viaPut.hash, unclaimed.hash])).toEqual([unclaimed.hash]);
      },
    );

    test("bad hashes, deployment ids and manifest paths are refused", async () => {
      const store = await open();
      const a = blob();
      await store.putBlob(a.hash, a.data);
      for (const hash of [
        "",
        "../../etc/passwd",
        a.hash.toUpperCase(),
        `${a.hash}0`,
        `../${a.hash.slice(3)}`,
      ]) {
        await expectCode(store.putBlob(hash, a.data), "bad_request");
        await expectCode(store.getBlob(hash), "bad_request");
        await expectCode(store.missing([hash]), "bad_request");
      }
      for (const id of ["", "../x", "a/b", "a\\b", ".hidden", "x\u0000y", "a".repeat(200)]) {
        await expectCode(store.getManifest(id), "bad_request");
        await expectCode(store.deleteManifest(id), "bad_request");
        await expectCode(store.putManifest(manifest(id, {})), "bad_request");
      }
      const file = { hash: a.hash, size: a.data.length, type: "text/plain" };
      for (const path of ["relative.txt", "/a/../b", "/./a", "/a//b", "/a/", "/a\\b", "/a\u0001", "/"]) {
        await expectCode(store.putManifest(manifest(crypto.randomUUID(), { [path]: file })), "bad_request");
      }
      await expectCode(
        store.putManifest(manifest(crypto.randomUUID(), { "/x": { ...file, hash: "nothex" } })),
        "bad_request",
      );
      await expectCode(
        store.putManifest(manifest(crypto.randomUUID(), { "/x": { ...file, size: -1 } })),
        "bad_request",
      );
    });
  });
}

// A remote builder's outputs: events and files go to the platform's build API, authenticated by a per-deployment token.

import type { BuildEvent } from "../schema/events.ts";
import { type Artifacts, type Manifest, parseManifest } from "../src/store/artifacts.ts";

const BATCH = 200;
const FLUSH_MS = 100;
const RETRIES = 5;

async function call(url: string, token: string, init: RequestInit): Promise<Response> {
  let last: unknown = null;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    try {
      const res = await fetch(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${token}` },
      });
      // 4xx are final (the platform refused: wrong token, finished deployment, bad data); 5xx are retried.
      if (res.status < 500) return res;
      last = new Error(`${init.method ?? "GET"} ${new URL(url).pathname}: HTTP ${res.status}`);
    } catch (error) {
      last = error;
    }
    await Bun.sleep(200 * 2 ** attempt);
  }
  throw last instanceof Error ? last : new Error("build API unreachable");
}

async function ok(res: Response, what: string): Promise<Response> {
  if (res.ok) return res;
  const body = await res.text().catch(() => "");
  throw new Error(`${what} refused by the platform (HTTP ${res.status}) ${body.slice(0, 300)}`);
}

/** Events, batched: write() never blocks the build; flush() waits until everything was accepted. */
export function httpEvents(apiUrl: string, deploymentId: string, token: string) {
  const url = `${apiUrl}/api/builds/${deploymentId}/events`;
  const queue: BuildEvent[] = [];
  let sending: Promise<void> | null = null;
  let failure: unknown = null;
  const send = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH);
      try {
        await ok(
          await call(url, token, {
            method: "POST",
            body: JSON.stringify(batch),
            headers: { "content-type": "application/json" },
          }),
          "events",
        );
      } catch (error) {
        failure = error;
        return;
      }
    }
  };
  const kick = () => {
    sending ??= Bun.sleep(FLUSH_MS)
      .then(send)
      .finally(() => {
        sending = null;
        if (queue.length > 0 && !failure) kick();
      });
  };
  return {
    write(event: BuildEvent) {
      queue.push(event);
      kick();
    },
    async flush() {
      while (sending) await sending;
      await send();
      if (failure) throw failure;
    },
  };
}

/** The artifact operations a builder needs, through the build API (it cannot read other deployments). */
export function httpArtifacts(apiUrl: string, deploymentId: string, token: string): Artifacts {
  const base = `${apiUrl}/api/builds/${deploymentId}`;
  const refuse = () => Promise.reject(new Error("not available to a builder"));
  const refuseListing = () => ({ [Symbol.asyncIterator]: () => ({ next: refuse }) });
  return {
    async missing(hashes) {
      const res = await ok(
        await call(`${base}/missing`, token, {
          method: "POST",
          body: JSON.stringify({ hashes }),
          headers: { "content-type": "application/json" },
        }),
        "missing",
      );
      const body = (await res.json()) as { missing?: unknown };
      return Array.isArray(body.missing)
        ? body.missing.filter((h): h is string => typeof h === "string")
        : [];
    },
    async putBlob(hash, data) {
      const body = data instanceof Blob ? data : new Blob([new Uint8Array(data)]);
      await ok(
        await call(`${base}/blobs/${hash}`, token, { method: "PUT", body }),
        `blob ${hash.slice(0, 12)}`,
      );
    },
    async putManifest(manifest: Manifest) {
      await ok(
        await call(`${base}/manifest`, token, {
          method: "PUT",
          body: JSON.stringify(manifest),
          headers: { "content-type": "application/json" },
        }),
        "manifest",
      );
    },
    // Reading is limited to the deployment's own uploaded source (the build API checks it).
    async getManifest(id) {
      if (id !== `source-${deploymentId}`) return refuse();
      const res = await call(`${base}/source`, token, {});
      if (res.status === 404) return null;
      return parseManifest(await (await ok(res, "source")).json());
    },
    async getBlob(hash) {
      const res = await call(`${base}/source/${hash}`, token, {});
      if (res.status === 404) return null;
      return (await ok(res, `source file ${hash.slice(0, 12)}`)).blob();
    },
    deleteManifest: refuse,
    listManifests: refuseListing,
    listBlobs: refuseListing,
    deleteBlob: refuse,
  };
}

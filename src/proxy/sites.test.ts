// Proxy: deployments in memory; an oversized `_redirects` or `_headers` is ignored with a warning naming it.

import { expect, test } from "bun:test";
import type { Manifest } from "../store/artifacts.ts";
import { captureLog } from "../testing/metrics.ts";
import { createSites } from "./sites.ts";

const HASH = "a".repeat(64);

test("a config file over the limit is ignored, and the warning names the deployment, the file and its size", async () => {
  const { log, lines } = captureLog();
  const manifest: Manifest = {
    version: 1,
    deploymentId: "d1",
    createdAt: new Date().toISOString(),
    files: {
      "/index.html": { hash: HASH, size: 5, type: "text/html;charset=utf-8" },
      "/_redirects": { hash: HASH, size: 600 * 1024, type: "text/plain;charset=utf-8" },
    },
  };
  let blobsRead = 0;
  const sites = createSites(
    {
      getManifest: async (id) => (id === "d1" ? manifest : null),
      getBlob: async () => {
        blobsRead++;
        return new Blob(["/* /index.html 200"]);
      },
    },
    8,
    log,
  );
  expect(await sites.get("d1")).not.toBeNull();
  expect(blobsRead).toBe(0);
  expect(lines).toEqual([
    expect.objectContaining({
      level: "warn",
      msg: "config file too large, ignored",
      deploymentId: "d1",
      file: "_redirects",
      bytes: 600 * 1024,
      maxBytes: 512 * 1024,
    }),
  ]);
});

// Capturing preview images, what never goes wrong for the deployment: a browser that fails leaves it READY with a
// log line and no image; a protected deployment is captured with an access of its own (protection.test.ts); a stored image lives exactly as long as its deployment
// (garbage collection reads its owner from the manifest id). The real browser: preview.e2e.test.ts.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { createLogger } from "../observe/log.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { collectGarbage } from "../worker/gc.ts";
import { capturePreview, previewManifestId, previewOf, startPreviewer } from "./previews.ts";

let deps: Deps;
const lines: string[] = [];
const log = createLogger({ format: "json", level: "debug", write: (line) => lines.push(line) });

beforeAll(async () => {
  // A "browser" that fails at once.
  deps = await testDeps({ SCREENSHOT_BROWSER: "/bin/false" });
});
afterAll(() => deps.close());

async function ready(protection?: "all", target: "production" | "preview" = "production") {
  const { user } = await testUser(deps);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `p-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: "https://github.com/acme/site.git",
  });
  if (protection) await deps.store.protection.setMode(project.id, protection);
  return storedDeployment(deps.store, {
    projectId: project.id,
    userId: user.id,
    target,
    branch: target === "production" ? "main" : "feature",
  });
}

test("a browser that fails: no image, a log line, the deployment READY as before", async () => {
  const d = await ready();
  const previews = startPreviewer({ ...deps, log });
  previews.capture(d);
  await previews.idle();
  await previews.stop();
  expect(await previewOf(deps.artifacts, d.id)).toBeNull();
  expect((await deps.store.deployments.find(d.id))?.status).toBe("READY");
  expect(lines.some((l) => l.includes('"preview: no image"') && l.includes("the browser failed"))).toBe(true);
}, 60_000);

test("a protected deployment is captured too, with the capture's own access (the browser here fails)", async () => {
  const d = await ready("all");
  lines.length = 0;
  await capturePreview({ ...deps, log }, d, new AbortController().signal);
  expect(lines.some((l) => l.includes("skipped"))).toBe(false);
  expect(lines.some((l) => l.includes('"preview: no image"') && l.includes(d.id))).toBe(true);
});

test("garbage collection keeps an image while its deployment lives and drops it with it", async () => {
  // A preview, so that it can expire.
  const d = await ready(undefined, "preview");
  const png = new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...crypto.getRandomValues(new Uint8Array(32)),
  ]);
  const hash = new Bun.CryptoHasher("sha256").update(png).digest("hex");
  await deps.artifacts.putBlob(hash, png);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: previewManifestId(d.id),
    createdAt: new Date(Date.now() - 3_600_000).toISOString(),
    files: { "/preview.png": { hash, size: png.byteLength, type: "image/png" } },
  });
  const gc = { store: deps.store, artifacts: deps.artifacts, runtimeLogs: deps.runtimeLogs };
  await collectGarbage(gc, { graceMs: 0, previewRetentionMs: null });
  expect(await previewOf(deps.artifacts, d.id)).not.toBeNull();
  expect(await deps.artifacts.getBlob(hash)).not.toBeNull();
  expect(await deps.store.deployments.expire(d.id)).toBe(true);
  await collectGarbage(gc, { graceMs: 0, previewRetentionMs: null });
  expect(await previewOf(deps.artifacts, d.id)).toBeNull();
  expect(await deps.artifacts.getBlob(hash)).toBeNull();
});

// Preview images through the dashboard's handler: the production card and the deployment page show the stored
// image (served only to the project's owner: ownership.test.ts), or a placeholder with the project's initials and
// why there is none. Capturing one with a real browser: src/preview/preview.e2e.test.ts.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { initials } from "../../views/components/preview-image.tsx";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import { previewManifestId } from "../preview/previews.ts";
import { testDeps } from "../testing/deps.ts";
import { storedDeployment } from "../testing/store-deployment.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  // A browser is configured (any existing file will do: nothing is captured here, there is no worker).
  deps = await testDeps({ SCREENSHOT_BROWSER: process.execPath });
  app = createDashboard(deps);
});
afterAll(() => deps.close());

const card = (html: string) =>
  /<section class="card production-card"[\s\S]*?<\/section>/.exec(html)?.[0] ?? "";
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

async function liveProject(user: User, name: string, protection?: "previews" | "all") {
  const project = await createProject(deps.store, deps.config, user.id, {
    name,
    gitUrl: "https://github.com/acme/site.git",
  });
  if (protection) await deps.store.protection.setMode(project.id, protection);
  const deployment = await storedDeployment(deps.store, { projectId: project.id, userId: user.id });
  return { project, deployment };
}

test("without an image: a placeholder with the initials and why", async () => {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const { project } = await liveProject(user, "Acme <Docs>");
  const html = card((await v.get(`/projects/${project.id}`)).text);
  expect(html).toContain('id="preview-placeholder"');
  expect(html).toContain('<span class="preview-initials" aria-hidden="true">AD</span>');
  expect(html).toContain("No preview image yet");
  expect(html).not.toContain("<Docs>");
  // Protected deployments are captured too (with the capture's own access): the same note until the image exists.
  const all = await liveProject(user, "Locked", "all");
  expect(card((await v.get(`/projects/${all.project.id}`)).text)).toContain("No preview image yet");
  const previews = await liveProject(user, "Half", "previews");
  expect(card((await v.get(`/projects/${previews.project.id}`)).text)).toContain("No preview image yet");
});

test("with an image: shown on the production card and the deployment page, served to the owner", async () => {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const { project, deployment } = await liveProject(user, "Pictured");
  const hash = new Bun.CryptoHasher("sha256").update(PNG).digest("hex");
  await deps.artifacts.putBlob(hash, PNG);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: previewManifestId(deployment.id),
    createdAt: new Date().toISOString(),
    files: { "/preview.png": { hash, size: PNG.byteLength, type: "image/png" } },
  });
  const src = `/deployments/${deployment.id}/preview.png?v=${hash.slice(0, 16)}`;
  const html = card((await v.get(`/projects/${project.id}`)).text);
  expect(html).toContain(`src="${src}"`);
  expect(html).toContain('alt="The front page of Pictured"');
  expect((await v.get(`/deployments/${deployment.id}`)).text).toContain(`src="${src}"`);
  const cookie = [...v.cookies].map(([k, val]) => `${k}=${val}`).join("; ");
  const image = await app.handle(new Request(`http://localhost${src}`, { headers: { cookie } }));
  expect(image.status).toBe(200);
  expect(image.headers.get("content-type")).toBe("image/png");
  expect(image.headers.get("cache-control")).toBe("private, max-age=86400");
  expect(new Uint8Array(await image.arrayBuffer())).toEqual(PNG);
  // Signed out: no image.
  expect((await new Visitor(app).get(src)).status).toBe(303);
});

test("initials: two words' first letters, or a word's first two", () => {
  expect(initials("my cool site")).toBe("MC");
  expect(initials("blog")).toBe("BL");
  expect(initials("---")).toBe("?");
  expect(initials("été 2026")).toBe("É2");
});

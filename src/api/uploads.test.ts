// The CLI's upload API through its handler: missing hashes, verified uploads, limits, deploying a file set.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let alice: Client;
let bob: Client;
let anonymous: Client;
let aliceToken: string;

beforeAll(async () => {
  deps = await testDeps();
  aliceToken = (await testUser(deps)).token;
  alice = apiClient(deps, aliceToken);
  bob = apiClient(deps, (await testUser(deps)).token);
  anonymous = apiClient(deps, null);
});
afterAll(() => deps.close());

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const errorOf = (body: unknown) => obj(obj(body).error) as { code: string; message: string };

async function upload(content: string, hash = sha256(content), token = aliceToken) {
  const api = createApi(deps);
  return api.handle(
    new Request(`http://localhost/api/files/${hash}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: content,
    }),
  );
}

async function project(client = alice) {
  const res = await client("POST", "/api/projects", { name: `site ${crypto.randomUUID().slice(0, 8)}` });
  expect(res.status).toBe(201);
  return obj(res.body) as { id: string; subDomain: string };
}

/** Uploads `files` and returns the request's file map. */
async function uploaded(files: Record<string, string>) {
  const out: Record<string, { hash: string; size: number }> = {};
  for (const [path, content] of Object.entries(files)) {
    expect((await upload(content)).status).toBe(204);
    out[path] = { hash: sha256(content), size: Buffer.byteLength(content) };
  }
  return out;
}

async function deploymentsOf(projectId: string) {
  const res = await alice("GET", `/api/projects/${projectId}/deployments`);
  return obj(res.body).items as { id: string; status: string; statusReason: string | null }[];
}

describe("files", () => {
  test("missing lists exactly the hashes not stored, and needs a user", async () => {
    const stored = sha256(`stored ${crypto.randomUUID()}`);
    const absent = sha256(`absent ${crypto.randomUUID()}`);
    expect((await upload(`stored ${stored}`)).status).toBe(204);
    const known = sha256(`stored ${stored}`);
    const res = await alice("POST", "/api/files/missing", { hashes: [known, absent, absent] });
    expect(res.status).toBe(200);
    expect(obj(res.body).missing).toEqual([absent]);
    expect((await anonymous("POST", "/api/files/missing", { hashes: [absent] })).status).toBe(401);
    expect((await alice("POST", "/api/files/missing", { hashes: ["nothex"] })).status).toBe(422);
  });

  test("an upload is verified against its name", async () => {
    const wrong = await upload("some content", sha256("other content"));
    expect(wrong.status).toBe(400);
    expect(errorOf(await wrong.json()).message).toMatch(/does not match/);
    expect((await deps.artifacts.missing([sha256("other content")])).length).toBe(1);
    expect((await upload("x", "not-a-hash")).status).toBe(400);
    expect((await upload("x", sha256("x"), "mv_bogus")).status).toBe(401);
  });

  test("a file over 100 MB is refused with 413 before it is read", async () => {
    const res = await createApi(deps).handle(
      new Request(`http://localhost/api/files/${sha256("x")}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${aliceToken}`, "content-length": String(101 * 1024 * 1024 + 1) },
        body: "x",
      }),
    );
    expect(res.status).toBe(413);
    expect(errorOf(await res.json()).code).toBe("payload_too_large");
  });

  test("JSON routes refuse a large declared body with 413 JSON", async () => {
    const res = await alice(
      "POST",
      "/api/projects",
      { name: "x" },
      { "content-length": String(2 * 1024 * 1024) },
    );
    expect(res.status).toBe(413);
    expect(errorOf(res.body).code).toBe("payload_too_large");
  });
});

describe("deploying a file set", () => {
  test("prebuilt: READY at once, served from its manifest; production moves the pointer, preview does not", async () => {
    const p = await project();
    const files = await uploaded({ "/index.html": "<h1>one</h1>", "/a/b.css": "body{}" });
    const res = await alice("POST", `/api/projects/${p.id}/deployments`, { files, target: "production" });
    expect(res.status).toBe(201);
    const { deployment, project: after } = obj(res.body) as {
      deployment: { id: string; status: string; target: string; branch: string; url: string };
      project: { productionDeploymentId: string };
    };
    expect(deployment.status).toBe("READY");
    expect(deployment.target).toBe("production");
    expect(deployment.branch).toBe("main");
    expect(after.productionDeploymentId).toBe(deployment.id);
    const manifest = await deps.artifacts.getManifest(deployment.id);
    expect(manifest?.files["/index.html"]?.type).toBe("text/html;charset=utf-8");
    expect(manifest?.files["/a/b.css"]?.hash).toBe(sha256("body{}"));

    const preview = await alice("POST", `/api/projects/${p.id}/deployments`, { files });
    expect(preview.status).toBe(201);
    const body = obj(preview.body) as {
      deployment: { status: string; target: string };
      project: { productionDeploymentId: string };
    };
    expect(body.deployment.status).toBe("READY");
    expect(body.deployment.target).toBe("preview");
    expect(body.project.productionDeploymentId).toBe(deployment.id);
  });

  test("a file not uploaded: 409, and no deployment is created", async () => {
    const p = await project();
    const files = await uploaded({ "/index.html": "present" });
    const res = await alice("POST", `/api/projects/${p.id}/deployments`, {
      files: { ...files, "/gone.js": { hash: sha256(`never ${crypto.randomUUID()}`), size: 3 } },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res.body).message).toMatch(/1 of the deployment's files are not uploaded/);
    expect(await deploymentsOf(p.id)).toEqual([]);
  });

  test("when the manifest cannot be stored, the deployment ends FAIL with the reason", async () => {
    const p = await project();
    const files = await uploaded({ "/index.html": "five!" });
    const lying = { "/index.html": { hash: files["/index.html"]?.hash ?? "", size: 6 } };
    const res = await alice("POST", `/api/projects/${p.id}/deployments`, {
      files: lying,
      target: "production",
    });
    expect(res.status).toBe(409);
    const [failed] = await deploymentsOf(p.id);
    expect(failed?.status).toBe("FAIL");
    expect(failed?.statusReason).toMatch(/size/);
    expect(await deps.artifacts.getManifest(failed?.id ?? "")).toBeNull();
    expect(obj((await alice("GET", `/api/projects/${p.id}`)).body).productionDeploymentId).toBeNull();
  });

  test("limits: file count, total size, paths, with clear errors", async () => {
    const p = await project();
    const h = sha256("x");
    const many = Object.fromEntries(
      Array.from({ length: 20_001 }, (_, i) => [`/f${i}`, { hash: h, size: 1 }]),
    );
    const tooMany = await alice("POST", `/api/projects/${p.id}/deployments`, { files: many });
    expect(tooMany.status).toBe(413);
    expect(errorOf(tooMany.body).message).toBe(
      "a deployment may have at most 20000 files (this one has 20001)",
    );

    const big = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`/f${i}`, { hash: h, size: 99 * 1024 * 1024 }]),
    );
    const tooBig = await alice("POST", `/api/projects/${p.id}/deployments`, { files: big });
    expect(tooBig.status).toBe(413);
    expect(errorOf(tooBig.body).message).toMatch(
      /the files add up to more than 1 GB, the limit per deployment/,
    );

    const huge = await alice("POST", `/api/projects/${p.id}/deployments`, {
      files: { "/a": { hash: h, size: 200 * 1024 * 1024 } },
    });
    expect(huge.status).toBe(413);

    for (const path of ["/../etc/passwd", "relative.html", "/a//b", "/a\\b"]) {
      const res = await alice("POST", `/api/projects/${p.id}/deployments`, {
        files: { [path]: { hash: h, size: 1 } },
      });
      expect({ path, status: res.status }).toEqual({ path, status: 422 });
    }
    const empty = await alice("POST", `/api/projects/${p.id}/deployments`, { files: {} });
    expect(empty.status).toBe(422);
    expect(await deploymentsOf(p.id)).toEqual([]);
  });

  test("another user's project is a 404", async () => {
    const p = await project(bob);
    const files = await uploaded({ "/index.html": "mine" });
    const res = await alice("POST", `/api/projects/${p.id}/deployments`, { files });
    expect(res.status).toBe(404);
    expect((await anonymous("POST", `/api/projects/${p.id}/deployments`, { files })).status).toBe(401);
  });

  test("source: the tree is stored as its own manifest and the deployment QUEUED for a build", async () => {
    const p = await project();
    const files = await uploaded({ "/package.json": '{"scripts":{"build":"true"}}', "/index.html": "src" });
    const res = await alice("POST", `/api/projects/${p.id}/deployments`, { files, source: true });
    expect(res.status).toBe(201);
    const { deployment } = obj(res.body) as { deployment: { id: string; status: string } };
    expect(deployment.status).toBe("QUEUED");
    const source = await deps.artifacts.getManifest(sourceManifestId(deployment.id));
    expect(Object.keys(source?.files ?? {}).sort()).toEqual(["/index.html", "/package.json"]);
    expect(await deps.artifacts.getManifest(deployment.id)).toBeNull();
  });
});

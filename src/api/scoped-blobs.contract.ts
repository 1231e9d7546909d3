// Scoped uploads through the API, for each artifact store: an account cannot learn of another account's file
// by its hash (files/missing, a builder's missing), cannot name it in a deployment (file sets, a builder's
// manifest) nor read it (a builder's source), until it uploads the same bytes itself; the bytes stay stored
// once. Run on local disk (scoped-blobs.test.ts) and on S3 (scoped-blobs-s3.scale.test.ts).

import { describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testUser } from "../testing/deps.ts";

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

export function scopedBlobsContract(name: string, open: () => Promise<Deps>): void {
  describe(`scoped uploads: ${name}`, () => {
    /** Alice stores a private file and deploys it; bob has a project and a build of his own in progress. */
    async function setup() {
      const deps = await open();
      const alice = apiClient(deps, (await testUser(deps)).token);
      const bobUser = await testUser(deps);
      const bob = apiClient(deps, bobUser.token);
      const secret = `alice's private file ${crypto.randomUUID()}`;
      const hash = sha256(secret);
      const size = Buffer.byteLength(secret);
      const mine = obj((await alice("POST", "/api/projects", { name: "Alice's" })).body);
      expect((await alice("POST", "/api/files/missing", { hashes: [hash] })).body).toEqual({
        missing: [hash],
      });
      expect((await alice("PUT", `/api/files/${hash}`, secret)).status).toBe(204);
      expect((await alice("POST", "/api/files/missing", { hashes: [hash] })).body).toEqual({ missing: [] });
      const deployed = await alice("POST", `/api/projects/${mine.id}/deployments`, {
        files: { "/index.html": { hash, size } },
        target: "production",
      });
      expect(deployed.status).toBe(201);

      const bobsProject = obj((await bob("POST", "/api/projects", { name: "Bob's" })).body);
      const build = await deps.store.deployments.create({
        projectId: String(bobsProject.id),
        userId: bobUser.user.id,
        status: "QUEUED",
        target: "production",
        branch: "main",
        commitSha: null,
      });
      // As a remote runner claims it (no worker runs here), with a sign of life for the reaper.
      await deps.store.deployments.transition(build.id, "IN_PROGRESS", null);
      await deps.store.deployments.heartbeat(build.id, new Date().toISOString());
      const builder: Client = (method, path, body, headers = {}) =>
        apiClient(deps, null)(method, path, body, {
          authorization: `Bearer ${deps.buildTokens.issue(build.id)}`,
          ...headers,
        });
      return {
        deps,
        alice,
        bob,
        bobsProject: String(bobsProject.id),
        build: build.id,
        builder,
        secret,
        hash,
        size,
      };
    }

    test("files/missing tells another account nothing: a stored file of alice's is missing for bob", async () => {
      const { deps, bob, builder, build, hash } = await setup();
      const unknown = sha256(`nobody's ${crypto.randomUUID()}`);
      // Stored or never stored, bob gets the same answer.
      expect((await bob("POST", "/api/files/missing", { hashes: [hash, unknown] })).body).toEqual({
        missing: [hash, unknown],
      });
      expect(
        (await builder("POST", `/api/builds/${build}/missing`, { hashes: [hash, unknown] })).body,
      ).toEqual({
        missing: [hash, unknown],
      });
      // The bytes are there all along.
      expect(await deps.artifacts.missing([hash])).toEqual([]);
      await deps.close();
    });

    test("bob cannot deploy alice's file by its hash, nor put it in a build's manifest", async () => {
      const { deps, bob, bobsProject, builder, build, hash, size } = await setup();
      const refused = await bob("POST", `/api/projects/${bobsProject}/deployments`, {
        files: { "/stolen.html": { hash, size } },
        target: "production",
      });
      expect(refused.status).toBe(409);
      expect(obj(obj(refused.body).error).code).toBe("conflict");
      // As a compressed variant too.
      const own = `bob's page ${crypto.randomUUID()}`;
      expect((await bob("PUT", `/api/files/${sha256(own)}`, own)).status).toBe(204);
      const variant = await bob("POST", `/api/projects/${bobsProject}/deployments`, {
        files: { "/index.html": { hash: sha256(own), size: Buffer.byteLength(own), gzip: { hash, size } } },
      });
      expect(variant.status).toBe(409);
      // A build of bob's naming it in its manifest: refused, nothing stored.
      const manifest = await builder("PUT", `/api/builds/${build}/manifest`, {
        version: 1,
        deploymentId: build,
        createdAt: new Date().toISOString(),
        files: { "/stolen.html": { hash, size, type: "text/html" } },
      });
      expect(manifest.status).toBe(400);
      expect(await deps.artifacts.getManifest(build)).toBeNull();
      // The refused calls made no deployment: bob's project has only its build.
      const list = obj((await bob("GET", `/api/projects/${bobsProject}/deployments`)).body);
      expect((list.items as Record<string, unknown>[]).map((d) => d.id)).toEqual([build]);
      await deps.close();
    });

    test("a build reads only its own uploaded source, whatever hashes it asks for", async () => {
      const { deps, builder, build, hash } = await setup();
      const res = await builder("GET", `/api/builds/${build}/source/${hash}`);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain("alice's private file");
      await deps.close();
    });

    test("once bob uploads the same bytes he holds them: he may deploy them, and they are stored once", async () => {
      const { deps, bob, bobsProject, builder, build, secret, hash, size } = await setup();
      // A wrong body under the name is refused and claims nothing.
      expect((await bob("PUT", `/api/files/${hash}`, "not the content")).status).toBe(400);
      expect((await bob("POST", "/api/files/missing", { hashes: [hash] })).body).toEqual({ missing: [hash] });
      expect((await bob("PUT", `/api/files/${hash}`, secret)).status).toBe(204);
      expect((await bob("POST", "/api/files/missing", { hashes: [hash] })).body).toEqual({ missing: [] });
      const ok = await bob("POST", `/api/projects/${bobsProject}/deployments`, {
        files: { "/index.html": { hash, size } },
        target: "production",
      });
      expect(ok.status).toBe(201);
      // The build of bob's project holds what its project uploaded.
      expect((await builder("POST", `/api/builds/${build}/missing`, { hashes: [hash] })).body).toEqual({
        missing: [],
      });
      const stored: string[] = [];
      for await (const blob of deps.artifacts.listBlobs()) if (blob.hash === hash) stored.push(blob.hash);
      expect(stored).toEqual([hash]);
      await deps.close();
    });

    test("a builder's upload counts for its project: its manifest may then name the file", async () => {
      const { deps, builder, build } = await setup();
      const page = `built by bob's build ${crypto.randomUUID()}`;
      const hash = sha256(page);
      expect((await builder("PUT", `/api/builds/${build}/blobs/${hash}`, page)).status).toBe(204);
      const manifest = await builder("PUT", `/api/builds/${build}/manifest`, {
        version: 1,
        deploymentId: build,
        createdAt: new Date().toISOString(),
        files: { "/index.html": { hash, size: Buffer.byteLength(page), type: "text/html" } },
      });
      expect(manifest.status).toBe(204);
      await deps.close();
    });
  });
}

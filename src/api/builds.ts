// /api/builds/:id: the channel of a remote builder (ECS). A per-deployment token is its only credential:
// it can report events and store files for its own deployment, while it builds, and nothing else.

import { Elysia, t } from "elysia";
import { packEvents, parseBuildEvent } from "../../schema/events.ts";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { blobScope, missingFor, putScopedBlob } from "../deploy/scoped-blobs.ts";
import type { Deps } from "../deps.ts";
import { AppError, badRequest, conflict, notFound, unauthorized } from "../errors.ts";
import { isSha256, manifestBlobs, parseManifest } from "../store/artifacts.ts";
import { recordRejection } from "../worker/apply-events.ts";
import { readCapped } from "./body-limit.ts";
import { BinaryBody, BinaryResponse, errorResponse, Id, IdAndHash, NoContent } from "./schemas.ts";

const MAX_BLOB_BYTES = 100 * 1024 * 1024;

const Sha256 = t.String({ pattern: "^[0-9a-f]{64}$" });
const Size = t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "bytes" });
const Variant = t.Object({ hash: Sha256, size: Size });

const ManifestFileBody = t.Object({
  hash: Sha256,
  size: Size,
  type: t.String(),
  gzip: t.Optional(Variant),
  br: t.Optional(Variant),
});

/** A stored manifest (store/artifacts.ts Manifest), as a builder reads it back. */
const ManifestBody = t.Object({
  version: t.Union([t.Literal(1), t.Literal(2)]),
  deploymentId: t.String(),
  createdAt: t.String({ format: "date-time" }),
  files: t.Record(t.String(), ManifestFileBody, { description: 'path ("/index.html") -> the stored file' }),
  buildOutput: t.Optional(t.Object({ config: Variant })),
  functions: t.Optional(
    t.Record(
      t.String(),
      t.Object({
        config: Variant,
        prerender: t.Optional(Variant),
        fallback: t.Optional(ManifestFileBody),
        files: t.Record(
          t.String(),
          t.Object({ hash: Sha256, size: Size, executable: t.Optional(t.Boolean()) }),
          { description: 'path in the function ("index.mjs") -> the stored file' },
        ),
      }),
      { description: 'the path a function answers at ("/api/hello") -> its files' },
    ),
  ),
});

/** What the build token guard answers on every build route (authentication itself: docs-responses.ts). */
const guarded = {
  403: errorResponse("The build token belongs to another deployment."),
  409: errorResponse("The deployment is not building."),
};

export function buildRoutes(deps: Pick<Deps, "store" | "bus" | "artifacts" | "buildTokens">) {
  const { store, bus, artifacts, buildTokens } = deps;

  // A plugin of its own: "scoped" then reaches exactly these routes (on the instance itself it would leak
  // into every route the parent registers after them).
  const requireBuildToken = new Elysia().derive({ as: "scoped" }, async ({ request, params }) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
    const deploymentId = buildTokens.verify(bearer);
    if (!deploymentId) throw unauthorized("a build token is required");
    const id = (params as Record<string, string | undefined>).id;
    if (id !== deploymentId) {
      await recordRejection(store, "build-api", {
        reason: "build token used for another deployment",
        value: { deploymentId: id },
      });
      throw new AppError("forbidden", "this token belongs to another deployment");
    }
    const deployment = await store.deployments.find(deploymentId);
    if (deployment?.status !== "IN_PROGRESS") throw conflict("the deployment is not building");
    return { deploymentId, projectId: deployment.projectId };
  });

  /** The scope a build's files belong to: its project's (src/deploy/scoped-blobs.ts). */
  const scopeOf = async (projectId: string) => {
    const project = await store.projects.find(projectId);
    if (!project) throw conflict("the deployment's project is gone");
    return blobScope(project);
  };

  /** The blobs of recently read uploaded sources: a builder may read those of its own deployment only. */
  const sourceBlobs = new Map<string, Set<string>>();
  const ownSource = async (deploymentId: string) => {
    const manifest = await artifacts.getManifest(sourceManifestId(deploymentId));
    if (!manifest) throw notFound("uploaded source");
    sourceBlobs.delete(deploymentId);
    sourceBlobs.set(deploymentId, new Set(manifestBlobs(manifest).map(({ blob }) => blob.hash)));
    for (const oldest of sourceBlobs.keys()) if (sourceBlobs.size > 32) sourceBlobs.delete(oldest);
    return manifest;
  };

  return new Elysia({ tags: ["builds"], detail: { security: [{ buildToken: [] }] } })
    .use(requireBuildToken)
    .get("/builds/:id/source", ({ deploymentId }) => ownSource(deploymentId), {
      params: Id,
      response: {
        200: ManifestBody,
        ...guarded,
        404: errorResponse("The deployment has no uploaded source."),
      },
      detail: { summary: "The manifest of this deployment's uploaded source tree (CLI source deploys)" },
    })
    .get(
      "/builds/:id/source/:hash",
      async ({ deploymentId, params }) => {
        if (!(sourceBlobs.get(deploymentId) ?? new Set()).has(params.hash)) await ownSource(deploymentId);
        if (!sourceBlobs.get(deploymentId)?.has(params.hash)) throw notFound("file in the uploaded source");
        const blob = await artifacts.getBlob(params.hash);
        if (!blob) throw notFound("file");
        return new Response(blob, { headers: { "content-type": "application/octet-stream" } });
      },
      {
        params: IdAndHash,
        response: {
          200: BinaryResponse,
          ...guarded,
          404: errorResponse("The deployment has no uploaded source, or no file with this hash in it."),
        },
        detail: { summary: "One file of this deployment's uploaded source, by its hash" },
      },
    )
    .post(
      "/builds/:id/events",
      async ({ deploymentId, body }) => {
        const accepted: unknown[] = [];
        let rejected = 0;
        for (const value of body) {
          const parsed = parseBuildEvent(value);
          const reason = !parsed.ok
            ? `invalid event (${parsed.problem})`
            : parsed.event.deploymentId !== deploymentId
              ? "event for another deployment"
              : null;
          if (reason) {
            rejected++;
            await recordRejection(store, "build-api", { reason, value });
            continue;
          }
          accepted.push(value);
        }
        // Together, in order: a chatty build's lines go on in one send, not one per line.
        await bus.publishAll("build-events", deploymentId, packEvents(accepted));
        return { accepted: accepted.length, rejected };
      },
      {
        params: Id,
        body: t.Array(t.Unknown(), { maxItems: 1000 }),
        parse: "json",
        response: {
          200: t.Object({
            accepted: t.Integer({ minimum: 0 }),
            rejected: t.Integer({
              minimum: 0,
              description: "invalid, or naming another deployment (recorded)",
            }),
          }),
          ...guarded,
        },
        detail: {
          summary: "Report build events (log lines, status, heartbeats) for this token's deployment",
        },
      },
    )
    .post(
      "/builds/:id/missing",
      async ({ projectId, body }) => ({
        missing: await missingFor(store, artifacts, await scopeOf(projectId), body.hashes),
      }),
      {
        params: Id,
        body: t.Object({ hashes: t.Array(Sha256, { maxItems: 50_000 }) }),
        parse: "json",
        response: { 200: t.Object({ missing: t.Array(Sha256) }), ...guarded },
        detail: { summary: "Which of these content hashes the project has not uploaded yet" },
      },
    )
    .put(
      "/builds/:id/blobs/:hash",
      async ({ projectId, params, request, set }) => {
        if (!isSha256(params.hash)) throw badRequest("the blob name must be its sha256 (64 hex digits)");
        const length = Number(request.headers.get("content-length") ?? "0");
        if (length > MAX_BLOB_BYTES) throw new AppError("payload_too_large", "a file may be at most 100 MB");
        // putBlob hashes what arrived and refuses it unless it matches: no token can plant other content.
        // readCapped: a chunked body (no length declared) is refused once past the limit, not buffered whole.
        const data = await readCapped(request, MAX_BLOB_BYTES);
        await putScopedBlob(store, artifacts, await scopeOf(projectId), params.hash, data);
        set.status = 204;
      },
      {
        params: IdAndHash,
        parse: "none",
        response: {
          204: NoContent,
          ...guarded,
          400: errorResponse("The name is not a sha256 (64 lowercase hex digits), or not the content's."),
        },
        detail: { summary: "Store one file by its content hash", requestBody: BinaryBody },
      },
    )
    .put(
      "/builds/:id/manifest",
      async ({ deploymentId, projectId, body, set }) => {
        const manifest = parseManifest(body);
        if (manifest.deploymentId !== deploymentId) throw badRequest("the manifest names another deployment");
        // Only files this project uploaded: a hash of another account's file is refused like a missing one.
        const hashes = manifestBlobs(manifest).map(({ blob }) => blob.hash);
        const missing = await missingFor(store, artifacts, await scopeOf(projectId), hashes);
        if (missing.length > 0)
          throw badRequest(`the manifest names ${missing.length} files not uploaded yet`, "files");
        await artifacts.putManifest(manifest);
        set.status = 204;
      },
      {
        params: Id,
        body: t.Unknown(),
        parse: "json",
        response: {
          204: NoContent,
          ...guarded,
          400: errorResponse(
            "The manifest is malformed, names another deployment, or a file not stored yet.",
          ),
        },
        detail: { summary: "Store the deployment's manifest (after all its files)" },
      },
    );
}

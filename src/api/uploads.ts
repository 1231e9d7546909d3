// /api/files and /api/projects/:id/deployments: content-addressed uploads for the CLI. Ask which hashes
// the platform lacks, send only those, then deploy the file set (prebuilt, or a source tree to build).

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { deployFileSet, FILE_SET_LIMITS, queueSourceBuild } from "../deploy/prebuilt.ts";
import { missingFor, putScopedBlob } from "../deploy/scoped-blobs.ts";
import type { Deps } from "../deps.ts";
import { AppError, badRequest } from "../errors.ts";
import { isSha256 } from "../store/artifacts.ts";
import { requireUser } from "./auth.ts";
import { readCapped } from "./body-limit.ts";
import { BinaryBody, Deployment, errorResponse, Id, NoContent, Project } from "./schemas.ts";
import { deploymentView, projectView } from "./views.ts";

const Hash = t.String({ pattern: "^[0-9a-f]{64}$" });
const Size = t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "bytes" });
const Variant = t.Object({ hash: Hash, size: Size }, { additionalProperties: false });

export const FileSetDeploy = t.Object(
  {
    files: t.Record(
      t.String({ maxLength: 4096 }),
      t.Object(
        {
          hash: Hash,
          size: Size,
          type: t.Optional(t.String({ maxLength: 255, description: "default: from the file extension" })),
          gzip: t.Optional(Variant),
          br: t.Optional(Variant),
        },
        { additionalProperties: false },
      ),
      { description: 'path ("/index.html") -> the uploaded file' },
    ),
    target: t.Optional(t.Union([t.Literal("production"), t.Literal("preview")], { default: "preview" })),
    branch: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    source: t.Optional(
      t.Boolean({
        description: "true: the files are the project's source; build it on the server (QUEUED, like a push)",
      }),
    ),
  },
  { additionalProperties: false },
);

export function uploadRoutes(
  deps: Pick<Deps, "config" | "store" | "artifacts" | "bus" | "live" | "logs" | "auth" | "metrics"> & {
    audit: Auditor;
  },
) {
  const { config, store, artifacts, auth } = deps;
  const maxUploadBytes = config.limits.maxUploadMb * 1024 * 1024;
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  return new Elysia({ tags: ["uploads"] })
    .use(requireUser(auth))
    .post(
      "/files/missing",
      async ({ user, body }) => ({ missing: await missingFor(store, artifacts, user.id, body.hashes) }),
      {
        body: t.Object(
          { hashes: t.Array(Hash, { maxItems: 2 * FILE_SET_LIMITS.maxFiles }) },
          { additionalProperties: false },
        ),
        parse: "json",
        response: { 200: t.Object({ missing: t.Array(t.String()) }) },
        detail: {
          summary: "Which of these content hashes (sha256) you have not uploaded yet",
          description:
            "Answered for your own uploads only: a file another account stored counts as missing until you upload it.",
        },
      },
    )
    .put(
      "/files/:hash",
      async ({ user, params, request, set }) => {
        if (!isSha256(params.hash))
          throw badRequest("the file name must be its sha256 (64 lowercase hex digits)");
        // MAX_UPLOAD_MB; a chunked body is counted as it arrives and refused once past the cap.
        const data = await readCapped(request, maxUploadBytes).catch((error: unknown) => {
          if (error instanceof AppError && error.code === "payload_too_large")
            throw new AppError("payload_too_large", `a file may be at most ${config.limits.maxUploadMb} MB`);
          throw error;
        });
        // putBlob hashes what arrived and refuses it unless it matches the name: no one can plant other content.
        // Also when the bytes are stored already: uploading them is how an account proves it holds them.
        await putScopedBlob(store, artifacts, user.id, params.hash, data);
        set.status = 204;
      },
      {
        params: t.Object({ hash: t.String({ maxLength: 64 }) }),
        parse: "none",
        response: {
          204: NoContent,
          400: errorResponse("The name is not a sha256 (64 lowercase hex digits), or not the content's."),
        },
        detail: {
          requestBody: BinaryBody,
          summary:
            "Upload one file, named by the sha256 of its content (verified on receipt; at most MAX_UPLOAD_MB, 100 MB by default)",
        },
      },
    )
    .post(
      "/projects/:id/deployments",
      async ({ user, params, body, set, request }) => {
        const input = { projectId: params.id, files: body.files, target: body.target, branch: body.branch };
        const { deployment, project } = body.source
          ? await queueSourceBuild(deps, user.id, input)
          : await deployFileSet(deps, user.id, input);
        await deps.audit.project(
          request,
          user,
          project,
          "deployment.create",
          `${deployment.target} ${deployment.id}`,
        );
        set.status = 201;
        return {
          deployment: deploymentView(deployment, project, config),
          project: projectView(project, config),
        };
      },
      {
        params: Id,
        body: FileSetDeploy,
        parse: "json",
        response: {
          201: t.Object({ deployment: Deployment, project: Project }),
          404: errorResponse("No such project, or not yours."),
          409: errorResponse("A file is not uploaded yet."),
          413: errorResponse(
            "Over 20,000 files, a file over 100 MB, or over 1 GB in all (or a body over 32 MB).",
          ),
        },
        detail: {
          summary:
            "Deploy uploaded files: prebuilt (READY at once) or, with source: true, a source tree to build",
          description:
            `Every file must be uploaded first (409 otherwise). At most ${FILE_SET_LIMITS.maxFiles} files and ` +
            "1 GB in all (413). A production deployment becomes the production deployment when READY.",
        },
      },
    );
}

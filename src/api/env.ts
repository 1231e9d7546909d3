// /api/projects/:id/env: a project's environment variables, per target; values go in, only names come out.

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { listEnvVars, removeEnvVar, setEnvVar } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, IdAndKey, NoContent } from "./schemas.ts";

const Target = t.Union([t.Literal("production"), t.Literal("preview")]);

/** The targets a variable applies to, named as Vercel's API names them (`target`). */
const TargetList = t.Array(Target, {
  minItems: 1,
  description: "the deployments it applies to: production, preview or both (in that order when listed)",
});

const EnvVar = t.Object({ key: t.String(), target: TargetList, updatedAt: t.String() });
const EnvList = t.Object({
  items: t.Array(EnvVar, {
    description: "by key; a key with a value per target appears once per target, production first",
  }),
});

export function envRoutes({
  store,
  sealer,
  auth,
  audit,
}: Pick<Deps, "store" | "sealer" | "auth"> & { audit: Auditor }) {
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such project, or not yours.") };
  return new Elysia({ tags: ["environment"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/env",
      async ({ user, params }) => ({
        items: (await listEnvVars(store, user.id, params.id)).map((v) => ({
          key: v.key,
          target: v.targets,
          updatedAt: v.updatedAt,
        })),
      }),
      {
        params: Id,
        response: { 200: EnvList, ...missing },
        detail: { summary: "List a project's variables: names and targets (values are write-only)" },
      },
    )
    .put(
      "/projects/:id/env/:key",
      async ({ user, params, body, set, request }) => {
        await setEnvVar(store, sealer, user.id, params.id, params.key, body.value, body.target);
        const targets = (body.target ?? ["production", "preview"]).join(", ");
        await audit.project(request, user, params.id, "env.set", `${params.key} (${targets})`);
        set.status = 204;
      },
      {
        params: IdAndKey,
        body: t.Object(
          {
            value: t.String({ maxLength: 65536 }),
            target: t.Optional(TargetList),
          },
          { additionalProperties: false },
        ),
        parse: "json",
        response: { 204: NoContent, ...missing },
        detail: {
          summary: "Set a variable for production, preview or both (default both)",
          description:
            "Encrypted at rest; passed only to this project's builds and functions of those targets. The key's " +
            "value for a target not named stays as it is.",
        },
      },
    )
    .delete(
      "/projects/:id/env/:key",
      async ({ user, params, query, set, request }) => {
        const targets = query.target === undefined ? undefined : [query.target];
        await removeEnvVar(store, user.id, params.id, params.key, targets);
        await audit.project(
          request,
          user,
          params.id,
          "env.remove",
          `${params.key} (${query.target ?? "all"})`,
        );
        set.status = 204;
      },
      {
        params: IdAndKey,
        query: t.Object({
          target: t.Optional(
            t.Union([t.Literal("production"), t.Literal("preview")], {
              title: "target",
              description: "remove it for this target only (the other keeps its value); default both",
            }),
          ),
        }),
        response: {
          204: NoContent,
          404: errorResponse("No such project or variable (for that target), or not yours."),
        },
        detail: { summary: "Remove a variable, for one target or both" },
      },
    );
}

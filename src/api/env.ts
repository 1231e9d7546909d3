// /api/projects/:id/env: a project's environment variables; values go in, only names come out.

import { Elysia, t } from "elysia";
import { listEnvVars, removeEnvVar, setEnvVar } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, IdAndKey, NoContent } from "./schemas.ts";

const EnvList = t.Object({ items: t.Array(t.Object({ key: t.String(), updatedAt: t.String() })) });

export function envRoutes({ store, sealer, auth }: Pick<Deps, "store" | "sealer" | "auth">) {
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such project, or not yours.") };
  return new Elysia({ tags: ["environment"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/env",
      async ({ user, params }) => ({ items: await listEnvVars(store, user.id, params.id) }),
      {
        params: Id,
        response: { 200: EnvList, ...missing },
        detail: { summary: "List a project's variable names (values are write-only)" },
      },
    )
    .put(
      "/projects/:id/env/:key",
      async ({ user, params, body, set }) => {
        await setEnvVar(store, sealer, user.id, params.id, params.key, body.value);
        set.status = 204;
      },
      {
        params: IdAndKey,
        body: t.Object({ value: t.String({ maxLength: 65536 }) }, { additionalProperties: false }),
        parse: "json",
        response: { 204: NoContent, ...missing },
        detail: { summary: "Set a variable (encrypted at rest; passed only to this project's builds)" },
      },
    )
    .delete(
      "/projects/:id/env/:key",
      async ({ user, params, set }) => {
        await removeEnvVar(store, user.id, params.id, params.key);
        set.status = 204;
      },
      {
        params: IdAndKey,
        response: { 204: NoContent, 404: errorResponse("No such project or variable, or not yours.") },
        detail: { summary: "Remove a variable" },
      },
    );
}

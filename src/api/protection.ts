// /api/projects/:id/protection: deployment protection's password and bypass tokens (the mode is a project
// setting: PATCH /api/projects/:id with `protection`).

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import {
  createBypassToken,
  listBypassTokens,
  revokeBypassToken,
  setProtectionPassword,
} from "../deploy/protection.ts";
import type { Deps } from "../deps.ts";
import type { BypassToken } from "../store/protection.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, NoContent } from "./schemas.ts";

const PasswordBody = t.Object(
  { password: t.String({ minLength: 8, maxLength: 1024, description: "8 to 1024 characters" }) },
  { additionalProperties: false },
);
const BypassCreate = t.Object(
  { name: t.String({ minLength: 1, maxLength: 100, description: "what uses it, e.g. ci" }) },
  { additionalProperties: false },
);
const Bypass = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String({ description: "first characters of the token" }),
  createdAt: t.String({ format: "date-time" }),
});
const BypassList = t.Object({ items: t.Array(Bypass) });
const CreatedBypass = t.Object({
  token: t.String({
    description: "the secret, shown only in this response: send it as x-vercel-protection-bypass",
  }),
  record: Bypass,
});
const IdAndToken = t.Object({ id: Id.properties.id, tokenId: t.String({ minLength: 1, maxLength: 64 }) });

const view = ({ id, name, prefix, createdAt }: BypassToken) => ({ id, name, prefix, createdAt });

export function protectionRoutes({
  store,
  bus,
  auth,
  audit,
}: Pick<Deps, "store" | "bus" | "auth"> & { audit: Auditor }) {
  const missing = { 404: errorResponse("No such project, or not yours.") };
  return new Elysia({ tags: ["protection"] })
    .use(requireUser(auth))
    .put(
      "/projects/:id/protection/password",
      async ({ user, params, body, set, request }) => {
        await setProtectionPassword({ store, bus }, user.id, params.id, body.password);
        await audit.project(request, user, params.id, "protection.password.set");
        set.status = 204;
      },
      {
        params: Id,
        body: PasswordBody,
        parse: "json",
        response: { 204: NoContent, ...missing },
        detail: { summary: "Set the project's protection password (it opens protected hosts)" },
      },
    )
    .delete(
      "/projects/:id/protection/password",
      async ({ user, params, set, request }) => {
        await setProtectionPassword({ store, bus }, user.id, params.id, null);
        await audit.project(request, user, params.id, "protection.password.remove");
        set.status = 204;
      },
      {
        params: Id,
        response: { 204: NoContent, ...missing },
        detail: { summary: "Remove the project's protection password" },
      },
    )
    .get(
      "/projects/:id/protection/bypass",
      async ({ user, params }) => ({ items: (await listBypassTokens(store, user.id, params.id)).map(view) }),
      {
        params: Id,
        response: { 200: BypassList, ...missing },
        detail: { summary: "List the project's protection bypass tokens" },
      },
    )
    .post(
      "/projects/:id/protection/bypass",
      async ({ user, params, body, set, request }) => {
        const { token, record } = await createBypassToken({ store, bus }, user.id, params.id, body.name);
        await audit.project(request, user, params.id, "protection.bypass.create", `token ${record.name}`);
        set.status = 201;
        return { token, record: view(record) };
      },
      {
        params: Id,
        body: BypassCreate,
        parse: "json",
        response: { 201: CreatedBypass, ...missing },
        detail: { summary: "Create a protection bypass token for automation" },
      },
    )
    .delete(
      "/projects/:id/protection/bypass/:tokenId",
      async ({ user, params, set, request }) => {
        await revokeBypassToken({ store, bus }, user.id, params.id, params.tokenId);
        await audit.project(request, user, params.id, "protection.bypass.revoke", `token ${params.tokenId}`);
        set.status = 204;
      },
      {
        params: IdAndToken,
        response: { 204: NoContent, 404: errorResponse("No such project or token, or not yours.") },
        detail: { summary: "Revoke a protection bypass token (refused by every proxy at once)" },
      },
    );
}

// /api/user and /api/tokens: who am I, and my API tokens (created once, listed with last use, revoked).

import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { createApiToken } from "../identity/accounts.ts";
import { requireUser } from "./auth.ts";
import { CreatedToken, errorResponse, Id, Me, NoContent, TokenCreate, TokenList } from "./schemas.ts";
import { tokenView } from "./views.ts";

export function tokenRoutes({ store, auth }: Pick<Deps, "store" | "auth">) {
  // Authentication, validation, body and rate limits: docs-responses.ts.
  return new Elysia({ tags: ["account"] })
    .use(requireUser(auth))
    .get("/user", ({ user }) => ({ id: user.id, email: user.email, createdAt: user.createdAt }), {
      response: { 200: Me },
      detail: { summary: "The authenticated user" },
    })
    .get("/tokens", async ({ user }) => ({ items: (await store.tokens.list(user.id)).map(tokenView) }), {
      response: { 200: TokenList },
      detail: { summary: "List your API tokens" },
    })
    .post(
      "/tokens",
      async ({ user, body, set }) => {
        const { token, record } = await createApiToken(
          store,
          user.id,
          body.name,
          body.expiresInDays ?? null,
          body.scope ?? "full",
        );
        set.status = 201;
        return { token, record: tokenView(record) };
      },
      {
        body: TokenCreate,
        parse: "json",
        response: { 201: CreatedToken },
        detail: { summary: "Create an API token" },
      },
    )
    .delete(
      "/tokens/:id",
      async ({ user, params, set }) => {
        if (!(await store.tokens.revoke(user.id, params.id))) throw notFound("token");
        set.status = 204;
      },
      {
        params: Id,
        response: { 204: NoContent, 404: errorResponse("No such token, or not yours.") },
        detail: { summary: "Revoke an API token" },
      },
    );
}

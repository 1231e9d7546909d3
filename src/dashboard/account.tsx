// Account: API tokens (create and show once, list, revoke) and sign out.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { AccountPage, type AccountProps } from "../../views/pages/account.tsx";
import { Id } from "../api/schemas.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { createApiToken } from "../identity/accounts.ts";
import type { User } from "../model/entities.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { html, redirect } from "./respond.ts";
import { clearSessionCookie, requireSession } from "./session.ts";

export function accountRoutes({ store }: Pick<Deps, "store">) {
  const render = async (
    user: User,
    csrf: string,
    extra: Partial<Pick<AccountProps, "created" | "values" | "errors">>,
    status = 200,
  ) => {
    const tokens = await store.tokens.list(user.id);
    const page = (
      <AccountPage
        chrome={chromeFor(user, csrf)}
        email={user.email}
        tokens={tokens}
        created={extra.created ?? null}
        values={extra.values ?? {}}
        errors={extra.errors ?? {}}
      />
    );
    return html(page, status);
  };

  return new Elysia()
    .use(requireSession(store))
    .get("/account", ({ user, csrf }) => render(user, csrf, {}))
    .post(
      "/account/tokens",
      async ({ user, csrf, body }) => {
        try {
          // The same function the API's POST /api/tokens calls.
          const { token, record } = await createApiToken(store, user.id, body.name ?? "");
          return await render(user, csrf, { created: { name: record.name, token } }, 201);
        } catch (error) {
          const errors = formErrors(error, { name: "Token name" });
          if (!errors) throw error;
          return render(user, csrf, { values: valuesOf(body), errors }, errorStatus(error));
        }
      },
      { body: t.Object({ ...CsrfField, name: Text(200) }) },
    )
    .post(
      "/account/tokens/:id/revoke",
      async ({ user, params, request }) => {
        if (!(await store.tokens.revoke(user.id, params.id))) throw notFound("token");
        return redirect(request, "/account");
      },
      { params: Id },
    )
    .post("/logout", async ({ request, sessionHash }) => {
      await store.sessions.delete(sessionHash);
      return redirect(request, "/login", { "set-cookie": clearSessionCookie(request) });
    });
}

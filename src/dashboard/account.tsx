// Account: API tokens (create and show once, list, revoke) and sign out.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { AccountPage, type AccountProps } from "../../views/pages/account.tsx";
import { Id } from "../api/schemas.ts";
import type { Deps } from "../deps.ts";
import { AppError, invalid, notFound } from "../errors.ts";
import { assertPassword, createApiToken, verifyLogin } from "../identity/accounts.ts";
import type { User } from "../model/entities.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { html, redirect } from "./respond.ts";
import { clearSessionCookie, requireSession } from "./session.ts";

export function accountRoutes({ store }: Pick<Deps, "store">) {
  const render = async (
    user: User,
    csrf: string,
    sessionHash: string,
    extra: Partial<
      Pick<AccountProps, "created" | "values" | "errors" | "passwordErrors" | "passwordChanged">
    >,
    status = 200,
  ) => {
    const [tokens, sessions] = await Promise.all([
      store.tokens.list(user.id),
      store.sessions.list(user.id, new Date().toISOString()),
    ]);
    const page = (
      <AccountPage
        chrome={chromeFor(user, csrf)}
        email={user.email}
        tokens={tokens}
        created={extra.created ?? null}
        values={extra.values ?? {}}
        errors={extra.errors ?? {}}
        hasPassword={user.passwordHash !== null}
        now={new Date()}
        passwordErrors={extra.passwordErrors ?? {}}
        passwordChanged={extra.passwordChanged ?? false}
        sessions={sessions.map(({ hash, session }) => ({
          hash,
          createdAt: session.createdAt,
          expiresAt: session.expiresAt,
          current: hash === sessionHash,
        }))}
      />
    );
    return html(page, status);
  };

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/account",
      ({ user, csrf, sessionHash, query }) =>
        render(user, csrf, sessionHash, { passwordChanged: query.changed === "password" }),
      { query: t.Object({ changed: Text(20) }) },
    )
    .post(
      "/account/tokens",
      async ({ user, csrf, body, sessionHash }) => {
        try {
          // The same function the API's POST /api/tokens calls.
          const days = body.expires ? Number(body.expires) : null;
          const { token, record } = await createApiToken(
            store,
            user.id,
            body.name ?? "",
            days,
            body.scope || "full",
          );
          return await render(user, csrf, sessionHash, { created: { name: record.name, token } }, 201);
        } catch (error) {
          const errors = formErrors(error, { name: "Token name", scope: "Can" });
          if (!errors) throw error;
          return render(user, csrf, sessionHash, { values: valuesOf(body), errors }, errorStatus(error));
        }
      },
      { body: t.Object({ ...CsrfField, name: Text(200), expires: Text(10), scope: Text(20) }) },
    )
    .post(
      "/account/tokens/:id/revoke",
      async ({ user, params, request }) => {
        if (!(await store.tokens.revoke(user.id, params.id))) throw notFound("token");
        return redirect(request, "/account");
      },
      { params: Id },
    )
    .post(
      "/account/password",
      async ({ user, csrf, body, sessionHash, request }) => {
        try {
          if (user.passwordHash === null)
            throw invalid("this account signs in elsewhere and has no password here");
          // The current password first, as signing in checks it (equally slow for a wrong one).
          await verifyLogin(store, user.email, body.current ?? "").catch((error: unknown) => {
            if (error instanceof AppError && error.code === "unauthorized")
              throw invalid("the current password is not right", "current");
            throw error;
          });
          const hash = await Bun.password.hash(assertPassword(body.password ?? ""));
          if (!(await store.users.setPassword(user.id, hash))) throw notFound("account");
          // Whoever else had a session (someone who knew the old password?) is signed out; this browser stays.
          await store.sessions.deleteOthers(user.id, sessionHash);
          return redirect(request, "/account?changed=password#password");
        } catch (error) {
          const errors = formErrors(error, { current: "Current password", password: "New password" });
          if (!errors) throw error;
          return render(user, csrf, sessionHash, { passwordErrors: errors }, errorStatus(error));
        }
      },
      { body: t.Object({ ...CsrfField, current: Text(1100), password: Text(1100) }) },
    )
    .post(
      "/account/sessions/others",
      async ({ user, sessionHash, request }) => {
        await store.sessions.deleteOthers(user.id, sessionHash);
        return redirect(request, "/account#sessions");
      },
      { body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/account/sessions/:hash/revoke",
      async ({ user, params, request }) => {
        if (!(await store.sessions.deleteOwn(user.id, params.hash))) throw notFound("session");
        return redirect(request, "/account#sessions");
      },
      {
        params: t.Object({ hash: t.String({ pattern: "^[0-9a-f]{64}$" }) }),
        body: t.Object({ ...CsrfField }),
      },
    )
    .post("/logout", async ({ request, sessionHash }) => {
      await store.sessions.delete(sessionHash);
      return redirect(request, "/login", { "set-cookie": clearSessionCookie(request) });
    });
}

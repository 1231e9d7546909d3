// First-run setup, sign in: the only forms shown without a session (guarded by a double-submit CSRF cookie).
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { LoginPage, SetupPage } from "../../views/pages/sign-in.tsx";
import type { Deps } from "../deps.ts";
import { AppError, conflict, RateLimited } from "../errors.ts";
import { createSession, createUser, verifyLogin } from "../identity/accounts.ts";
import { clientAddress, type PeerAddress } from "../identity/client-address.ts";
import { createLoginThrottle } from "../identity/login-throttle.ts";
import { chromeFor } from "./assets.ts";
import { safeNext } from "./errors.tsx";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { html, redirect, securityHeaders } from "./respond.ts";
import { assertPreSessionCsrf, currentSession, preSessionToken, sessionCookie } from "./session.ts";

const LABELS = { email: "Email", password: "Password" };
const Credentials = t.Object({ ...CsrfField, email: Text(400), password: Text(1100), next: Text(2000) });

/** A plain 303 (also for htmx, whose redirect-following fetch would otherwise swap the target page in). */
const seeOther = (location: string) =>
  new Response(null, { status: 303, headers: securityHeaders({ location }) });

export function signInRoutes(
  { config, store, sealer }: Pick<Deps, "config" | "store" | "sealer">,
  peer?: PeerAddress,
  now?: () => number,
) {
  const throttle = createLoginThrottle(store, config.limits, now);
  /** Checks the lockouts before the password (no guess is tried while locked), and counts a wrong one. */
  const login = async (request: Request, email: string, password: string) => {
    const address = clientAddress(request, peer, config.limits.trustProxyHops);
    await throttle.check(email, address);
    try {
      const user = await verifyLogin(store, email, password);
      await throttle.succeeded(email);
      return user;
    } catch (error) {
      if (error instanceof AppError && error.code === "unauthorized") await throttle.failed(email, address);
      throw error;
    }
  };
  // Setup creates the first account only: concurrent submissions are serialized so only one can win.
  let setupQueue: Promise<unknown> = Promise.resolve();
  const firstUser = (email: string, password: string) => {
    const run = setupQueue.then(async () => {
      if ((await store.users.count()) > 0) throw conflict("setup is already done: sign in instead");
      return createUser(store, email, password);
    });
    setupQueue = run.catch(() => undefined);
    return run;
  };

  const signedIn = async (request: Request, userId: string, next: string) => {
    const { cookie } = await createSession(store, userId, config.sessionTtlSeconds);
    return redirect(request, safeNext(next), {
      "set-cookie": sessionCookie(request, cookie, config.sessionTtlSeconds),
    });
  };

  return (
    new Elysia()
      // Local: this check covers these routes only (the session guard covers the others).
      .derive(async ({ request, body }) => {
        if (request.method === "POST") await assertPreSessionCsrf(sealer, request, body);
        return {};
      })
      .get("/setup", async ({ request }) => {
        if ((await store.users.count()) > 0) return seeOther("/login");
        const { token, setCookie } = await preSessionToken(sealer, request);
        return html(
          <SetupPage chrome={chromeFor(null, token)} values={{}} errors={{}} />,
          200,
          cookieHeader(setCookie),
        );
      })
      .post(
        "/setup",
        async ({ request, body }) => {
          try {
            const user = await firstUser(body.email ?? "", body.password ?? "");
            return await signedIn(request, user.id, "/");
          } catch (error) {
            const errors = formErrors(error, LABELS);
            if (!errors) throw error;
            const { token } = await preSessionToken(sealer, request);
            const page = (
              <SetupPage chrome={chromeFor(null, token)} values={valuesOf(body)} errors={errors} />
            );
            return html(page, errorStatus(error));
          }
        },
        { body: Credentials },
      )
      .get(
        "/login",
        async ({ request, query }) => {
          if ((await store.users.count()) === 0) return seeOther("/setup");
          if (await currentSession(store, request)) return seeOther(safeNext(query.next));
          const { token, setCookie } = await preSessionToken(sealer, request);
          const page = (
            <LoginPage chrome={chromeFor(null, token)} values={{}} errors={{}} next={safeNext(query.next)} />
          );
          return html(page, 200, cookieHeader(setCookie));
        },
        { query: t.Object({ next: Text(2000) }) },
      )
      .post(
        "/login",
        async ({ request, body }) => {
          try {
            const user = await login(request, body.email ?? "", body.password ?? "");
            return await signedIn(request, user.id, body.next ?? "/");
          } catch (error) {
            const errors = formErrors(error, LABELS);
            if (!errors) throw error;
            const { token } = await preSessionToken(sealer, request);
            const values = valuesOf(body);
            const page = (
              <LoginPage
                chrome={chromeFor(null, token)}
                values={values}
                errors={errors}
                next={safeNext(body.next)}
              />
            );
            const retry: Record<string, string> =
              error instanceof RateLimited ? { "retry-after": String(error.retryAfterSeconds) } : {};
            return html(page, errorStatus(error), retry);
          }
        },
        { body: Credentials },
      )
  );
}

const cookieHeader = (setCookie: string | null): HeadersInit | undefined =>
  setCookie ? { "set-cookie": setCookie } : undefined;

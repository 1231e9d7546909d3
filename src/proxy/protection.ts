// Proxy: deployment protection, checked before anything of the deployment is read (manifest, memory cache,
// functions), so a visitor without access gets none of its bytes. Access comes from (a) a signed-in member: a
// redirect through the dashboard, which hands back a signed one-time token that becomes a host-only cookie; (b)
// the project's password, through a small form on the host; (c) a bypass token for automation, by header or
// query (Vercel's names). The rules arrive with the routes (route-table.ts), so a change applies on the next
// request after its announcement.

import { renderToString } from "preact-render-to-string";
import type { LimitsConfig } from "../config/config.ts";
import { RateLimited } from "../errors.ts";
import type { AccessTokens, Grant } from "../identity/access-tokens.ts";
import { hashSecret } from "../identity/accounts.ts";
import { clientAddress } from "../identity/client-address.ts";
import { createLoginThrottle } from "../identity/login-throttle.ts";
import { HANDOFF_PATH, mayView, PASSWORD_PATH } from "../model/protection.ts";
import type { AccessRule } from "../store/protection.ts";
import type { Store } from "../store/store.ts";
import { SECURITY_HEADERS } from "./pages.ts";
import { ProtectedPage } from "./protected-page.tsx";
import { splitUrl } from "./request-target.ts";

export const ACCESS_COOKIE = "_minivercel_access";
export const BYPASS_HEADER = "x-vercel-protection-bypass";
export const SET_BYPASS_COOKIE = "x-vercel-set-bypass-cookie";
/** An access cookie lasts this long (then the visitor signs in, or enters the password, again). */
const COOKIE_SECONDS = 12 * 3600;
const FORM_SECONDS = 3600;
const MAX_FORM_BYTES = 8192;

/** What the gate decided: serve (maybe setting a cookie on the way), or answer with `response` instead. */
export type Decision = { kind: "allow"; setCookie: string | null } | { kind: "answer"; response: Response };

export interface ProtectionGate {
  /** For a request to a protected host. Synchronous unless the request is a hand-off, password post or bypass. */
  check(rule: AccessRule, request: Request, host: string, path: string): Decision | Promise<Decision>;
}

export interface GateDeps {
  store: Store;
  accessTokens: AccessTokens;
  dashboardUrl: string;
  limits: Pick<
    LimitsConfig,
    "loginMaxFailures" | "loginMaxFailuresPerIp" | "loginLockoutSeconds" | "trustProxyHops"
  >;
  /** Whether the request came over HTTPS (the cookie is Secure then), and its client's socket address. */
  secure: (request: Request) => boolean;
  peer: (request: Request) => string | null;
}

/** The headers every answer about a protected host carries: never indexed, never stored by a shared cache. */
export const PROTECTED_HEADERS: Readonly<Record<string, string>> = {
  "x-robots-tag": "noindex",
  "cache-control": "private, no-store",
};

function cookieOf(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * A same-host path to go to after access is granted: anything else becomes "/". Browsers drop tabs and newlines
 * and read a backslash as "/" ("/<tab>/evil" is "//evil"), so plain URL characters only (as the dashboard's).
 */
export function safeNext(next: string | null): string {
  return next && next.length <= 2048 && /^\/(?!\/)[\w\-.~!$&'()*+,;=:@%/?]*$/.test(next) ? next : "/";
}

function answer(status: number, body: string | null, headers: Record<string, string> = {}): Decision {
  const response = new Response(body, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      ...PROTECTED_HEADERS,
      ...(body !== null && { "content-type": "text/html; charset=utf-8" }),
      ...headers,
    },
  });
  return { kind: "answer", response };
}

const plain = (status: number, text: string) =>
  answer(status, `<!doctype html><meta charset="utf-8"><title>${text}</title><p>${text}</p>`);

export function createProtectionGate(deps: GateDeps): ProtectionGate {
  const { accessTokens } = deps;
  const throttle = createLoginThrottle(deps.store, deps.limits);

  function cookie(request: Request, rule: AccessRule, host: string, grant: Grant): string {
    const value = accessTokens.sign({
      type: "access",
      host,
      project: rule.projectId,
      grant,
      ...(grant.kind === "password" &&
        rule.passwordHash && { pw: accessTokens.fingerprint(rule.passwordHash) }),
      exp: Math.floor(Date.now() / 1000) + COOKIE_SECONDS,
    });
    // Host-only (no Domain): the cookie opens this one host, and no sibling deployment can read it.
    const secure = deps.secure(request) ? "; Secure" : "";
    return `${ACCESS_COOKIE}=${value}; Path=/; Max-Age=${COOKIE_SECONDS}; HttpOnly; SameSite=Lax${secure}`;
  }

  /** Whether a grant still holds: the member may still view, the password is unchanged, the token unrevoked. */
  function holds(rule: AccessRule, grant: Grant, pw: string | undefined): boolean {
    switch (grant.kind) {
      case "member":
        return mayView({ id: grant.userId }, rule);
      case "password":
        return rule.passwordHash !== null && pw === accessTokens.fingerprint(rule.passwordHash);
      case "bypass":
        for (const id of rule.bypass.values()) if (id === grant.tokenId) return true;
        return false;
      case "preview":
        // Minted by the worker for one capture (src/preview/previews.ts); it expires within minutes.
        return true;
    }
  }

  function fromCookie(request: Request, rule: AccessRule, host: string): boolean {
    const raw = cookieOf(request, ACCESS_COOKIE);
    if (raw === null) return false;
    const access = accessTokens.verify(raw, "access");
    return (
      access !== null &&
      access.host === host &&
      access.project === rule.projectId &&
      holds(rule, access.grant, access.pw)
    );
  }

  function originOf(request: Request, host: string): string {
    const port = new URL(request.url).port;
    const hostHeader = request.headers.get("host") ?? (port ? `${host}:${port}` : host);
    return `${deps.secure(request) ? "https" : "http"}://${hostHeader}`;
  }

  function signInUrl(request: Request, rule: AccessRule, host: string, target: string): string {
    const back = `${originOf(request, host)}${target}`;
    const query = new URLSearchParams({ project: rule.projectId, return: back });
    return `${deps.dashboardUrl}/protection/authorize?${query}`;
  }

  function refuse(
    request: Request,
    rule: AccessRule,
    host: string,
    /** Where to go after access is granted: the raw (still encoded) path and query. */
    target: string,
    error: string | null = null,
    status = 401,
  ): Decision {
    const signIn = signInUrl(request, rule, host, target);
    // Without a password, a browser goes straight to the dashboard; with one, it gets the choice.
    if (
      rule.passwordHash === null &&
      error === null &&
      (request.method === "GET" || request.method === "HEAD")
    )
      return answer(302, null, { location: signIn });
    const formToken = accessTokens.sign({
      type: "form",
      host,
      nonce: crypto.randomUUID(),
      exp: Math.floor(Date.now() / 1000) + FORM_SECONDS,
    });
    const html = renderToString(
      ProtectedPage({
        signInUrl: signIn,
        password: rule.passwordHash === null ? null : { formToken, next: safeNext(target), error },
      }),
    );
    return answer(status, request.method === "HEAD" ? null : `<!doctype html>${html}`);
  }

  async function handoff(request: Request, rule: AccessRule, host: string): Promise<Decision> {
    const token = new URL(request.url).searchParams.get("token") ?? "";
    const value = accessTokens.verify(token, "handoff");
    const refused = () => plain(403, "This sign-in link is invalid, expired or already used.");
    if (
      value === null ||
      value.host !== host ||
      value.project !== rule.projectId ||
      !mayView({ id: value.user }, rule)
    )
      return refused();
    // Once, on whichever proxy it reaches first (the store is shared by all of them).
    if (!(await deps.store.protection.useHandoff(value.nonce, new Date(value.exp * 1000)))) return refused();
    const grant: Grant = { kind: "member", userId: value.user };
    return answer(302, null, {
      location: safeNext(value.path),
      "set-cookie": cookie(request, rule, host, grant),
    });
  }

  async function passwordPost(request: Request, rule: AccessRule, host: string): Promise<Decision> {
    if (request.method !== "POST") return plain(405, "Method not allowed");
    if (rule.passwordHash === null) return plain(404, "This project has no password.");
    // The form is on this host: a post from any other origin is refused (login CSRF), and so is a stale form.
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== originOf(request, host))
      return plain(403, "Cross-site form post refused.");
    const length = Number(request.headers.get("content-length") ?? "0");
    if (length > MAX_FORM_BYTES) return plain(413, "Form too large.");
    let form: URLSearchParams;
    try {
      const text = await request.text();
      if (text.length > MAX_FORM_BYTES) return plain(413, "Form too large.");
      form = new URLSearchParams(text);
    } catch {
      return plain(400, "Unreadable form.");
    }
    const formToken = accessTokens.verify(form.get("form") ?? "", "form");
    const next = safeNext(form.get("next"));
    if (formToken === null || formToken.host !== host)
      return refuse(request, rule, host, next, "The form expired: enter the password again.", 403);
    const address = clientAddress(request, deps.peer, deps.limits.trustProxyHops);
    const key = `protection:${rule.projectId}`;
    try {
      await throttle.check(key, address);
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      const refused = refuse(request, rule, host, next, error.message, 429);
      if (refused.kind === "answer")
        refused.response.headers.set("retry-after", String(error.retryAfterSeconds));
      return refused;
    }
    const ok = await Bun.password.verify((form.get("password") ?? "").slice(0, 1024), rule.passwordHash);
    if (!ok) {
      await throttle.failed(key, address);
      return refuse(request, rule, host, next, "Wrong password.", 401);
    }
    await throttle.succeeded(key);
    return answer(303, null, {
      location: next,
      "set-cookie": cookie(request, rule, host, { kind: "password" }),
    });
  }

  return {
    check(rule, request, host, path) {
      // `path` is decoded and normalized (request-target.ts): the proxy's own paths match exactly.
      if (path === HANDOFF_PATH) return handoff(request, rule, host);
      if (path === PASSWORD_PATH) return passwordPost(request, rule, host);
      if (fromCookie(request, rule, host)) return { kind: "allow", setCookie: null };
      const header = request.headers.get(BYPASS_HEADER);
      const url = header === null && request.url.includes(BYPASS_HEADER) ? new URL(request.url) : null;
      const given = header ?? url?.searchParams.get(BYPASS_HEADER) ?? null;
      if (given !== null) {
        const tokenId = given.length <= 256 ? rule.bypass.get(hashSecret(given)) : undefined;
        if (tokenId === undefined) return plain(401, "The protection bypass token is not valid.");
        const wantsCookie =
          (header === null ? url?.searchParams : null)?.get(SET_BYPASS_COOKIE) ??
          request.headers.get(SET_BYPASS_COOKIE);
        const setCookie =
          wantsCookie === "true" || wantsCookie === "samesitenone"
            ? cookie(request, rule, host, { kind: "bypass", tokenId })
            : null;
        return { kind: "allow", setCookie };
      }
      const { rawPath, search } = splitUrl(request.url);
      return refuse(request, rule, host, rawPath + search);
    },
  };
}

/**
 * What the deployment's own code (its functions) must not see of the access it was given: the bypass headers and
 * the access cookie. A preview may run code from any branch; a bypass token opens every deployment of the
 * project. (A token sent in the query stays in the URL: send it as a header to keep it from functions.)
 */
export function withoutCredentials(request: Request): void {
  const headers = request.headers;
  headers.delete(BYPASS_HEADER);
  headers.delete(SET_BYPASS_COOKIE);
  const cookie = headers.get("cookie");
  if (cookie?.includes(ACCESS_COOKIE)) {
    const kept = cookie
      .split(";")
      .map((part) => part.trim())
      .filter((part) => part !== "" && !part.startsWith(`${ACCESS_COOKIE}=`));
    if (kept.length === 0) headers.delete("cookie");
    else headers.set("cookie", kept.join("; "));
  }
}

/** A granted answer, marked as protected (and carrying the access cookie when one was just earned). */
export function markProtected(response: Response, setCookie: string | null): Response {
  const headers = new Headers(response.headers);
  headers.set("x-robots-tag", "noindex");
  // A shared cache in front must not keep a protected answer for others; the browser's own cache may.
  const cache = headers.get("cache-control");
  headers.set("cache-control", cache ? cache.replace(/\bpublic\b/g, "private") : "private");
  if (!headers.get("cache-control")?.includes("private"))
    headers.set("cache-control", `private, ${headers.get("cache-control")}`);
  if (setCookie !== null) headers.append("set-cookie", setCookie);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

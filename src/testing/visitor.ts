// Test support: a cookie-keeping visitor that drives the dashboard through its handler, as a browser would.

import { createSession, createUser } from "../identity/accounts.ts";
import { cookieName, SESSION_COOKIE } from "../identity/authenticate.ts";
import type { User } from "../model/entities.ts";
import type { Store } from "../store/store.ts";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export class Visitor {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had a form (as the page's hidden field carries it). */
  csrf = "";

  constructor(
    private readonly app: { handle(request: Request): Promise<Response> },
    readonly origin = "http://localhost",
  ) {}

  async send(
    method: string,
    path: string,
    init: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    let body: string | undefined;
    if (init.form) {
      headers.set("content-type", "application/x-www-form-urlencoded");
      body = new URLSearchParams(init.form).toString();
    }
    const response = await this.app.handle(new Request(`${this.origin}${path}`, { method, headers, body }));
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = cookie.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (attributes.includes("Max-Age=0")) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    const text = await response.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: response.status, headers: response.headers, text };
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.send("GET", path, { headers });
  }

  /** Posts a form with the page's CSRF field, unless `form` sets `_csrf` itself. */
  post(path: string, form: Record<string, string> = {}, headers?: Record<string, string>): Promise<Reply> {
    return this.send("POST", path, { form: { _csrf: this.csrf, ...form }, headers });
  }
}

/** A new user signed in as `visitor` (session cookie and its CSRF token). */
export async function signIn(store: Store, visitor: Visitor, email?: string): Promise<User> {
  const user = await createUser(
    store,
    email ?? `u-${crypto.randomUUID().slice(0, 8)}@example.com`,
    "correct horse battery",
  );
  return signInAs(store, visitor, user);
}

/** `visitor` gets a session of its own as an existing user. */
export async function signInAs(store: Store, visitor: Visitor, user: User): Promise<User> {
  const { cookie, session } = await createSession(store, user.id, 3600);
  visitor.cookies.set(cookieName(SESSION_COOKIE, new Request(visitor.origin)), cookie);
  visitor.csrf = session.csrfToken;
  return user;
}

/** The inline error shown for a form field, or null. */
export function fieldError(html: string, field: string): string | null {
  return new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(html)?.[1] ?? null;
}

// Account: who you are, and your API tokens (created and shown once, listed, revoked).
/** @jsxImportSource preact */

import type { ApiToken } from "../../src/model/entities.ts";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { Time } from "../components/time.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export interface AccountProps {
  chrome: Chrome;
  email: string;
  tokens: ApiToken[];
  /** A token just created: its secret, shown this once. */
  created: { name: string; token: string } | null;
  values: FormValues;
  errors: FormErrors;
  /** Whether the user signs in with a password here (an external identity has none to change). */
  hasPassword: boolean;
  /** The password form's own values and errors (never the passwords themselves). */
  passwordErrors: FormErrors;
  passwordChanged: boolean;
  /** The user's live sessions, `current` the one of this browser. */
  sessions: { hash: string; createdAt: string; expiresAt: string; current: boolean }[];
  /** The time the page is rendered at (which tokens have expired). */
  now: Date;
}

export function AccountPage(props: AccountProps) {
  const { chrome, email, tokens } = props;
  const live = tokens.filter((t) => !t.revokedAt);
  return (
    <Layout chrome={chrome} title="Account" nav="account">
      <div class="page-head">
        <h1>Account</h1>
        <p class="muted">
          Signed in as <strong>{email}</strong>
        </p>
      </div>
      <p class="muted small">
        Everything here is also in the HTTP API: <a href="/api/docs">API reference</a>.
      </p>
      <section class="card" id="tokens" aria-labelledby="tokens-title">
        <h2 id="tokens-title">API tokens</h2>
        <p class="muted">
          Tokens act as you on the API and CLI: <code>Authorization: Bearer mv_…</code>
        </p>
        <TokenForm {...props} />
        {live.length === 0 ? (
          <p class="empty">No tokens yet.</p>
        ) : (
          <ul class="list" id="token-list">
            {live.map((t) => (
              <TokenRow key={t.id} token={t} csrf={chrome.csrf} now={props.now} />
            ))}
          </ul>
        )}
      </section>
      {props.hasPassword && <PasswordSection {...props} />}
      <SessionsSection {...props} />
    </Layout>
  );
}

function TokenForm({ chrome, created, values, errors }: AccountProps) {
  return (
    <HxForm id="token-form" action="/account/tokens" class="stack" region="tokens">
      <Csrf token={chrome.csrf} />
      {created && (
        <div class="notice success" role="status">
          <p>
            Token <strong>{created.name}</strong> created. Copy it now: it will not be shown again.
          </p>
          <div class="copy-row">
            <input
              id="new-token"
              class="mono"
              type="text"
              readonly
              value={created.token}
              aria-label="New API token"
            />
            <button type="button" class="button" data-copy="#new-token">
              Copy
            </button>
          </div>
        </div>
      )}
      <div class="inline-fields">
        <Field
          name="name"
          label="New token name"
          values={created ? {} : values}
          errors={errors}
          placeholder="laptop, CI, …"
        />
        <div class="field">
          <label for="f-expires">Expires</label>
          <select id="f-expires" name="expires">
            {[
              ["", "Never"],
              ["7", "In 7 days"],
              ["30", "In 30 days"],
              ["90", "In 90 days"],
              ["365", "In a year"],
            ].map(([value, label]) => (
              <option key={value} value={value} selected={!created && (values.expires ?? "") === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-scope">Can</label>
          <select id="f-scope" name="scope">
            {[
              ["full", "Do everything you can"],
              ["deploy", "Deploy only (CI): read, deploy, promote, roll back"],
              ["read", "Read only"],
            ].map(([value, label]) => (
              <option key={value} value={value} selected={!created && (values.scope ?? "full") === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button primary">
          Create token
        </button>
      </div>
      <FormError errors={errors} />
    </HxForm>
  );
}

function TokenRow({ token, csrf, now }: { token: ApiToken; csrf: string; now: Date }) {
  return (
    <li class="list-row">
      <div>
        <strong>{token.name}</strong> <span class="mono muted">{token.prefix}…</span>
        {token.scope !== "full" && (
          <span class="tag">{token.scope === "read" ? "read only" : "deploy only"}</span>
        )}
        <div class="small muted">
          created <Time iso={token.createdAt} />
          {" · "}
          {token.expiresAt ? (
            Date.parse(token.expiresAt) <= now.getTime() ? (
              <span class="tag tag-failed">expired</span>
            ) : (
              <>
                expires <Time iso={token.expiresAt} />
              </>
            )
          ) : (
            "never expires"
          )}
          {" · "}
          {token.lastUsedAt ? (
            <>
              last used <Time iso={token.lastUsedAt} />
            </>
          ) : (
            "never used"
          )}
        </div>
      </div>
      <form method="post" action={`/account/tokens/${token.id}/revoke`} class="inline-form">
        <Csrf token={csrf} />
        <button
          type="submit"
          class="button danger small"
          hx-post={`/account/tokens/${token.id}/revoke`}
          hx-confirm={`Revoke the token "${token.name}"? Anything using it stops working.`}
          aria-label={`Revoke token ${token.name}`}
        >
          Revoke
        </button>
      </form>
    </li>
  );
}

function PasswordSection(props: AccountProps) {
  const { chrome, passwordErrors: errors } = props;
  return (
    <section class="card" id="password" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <HxForm id="password-form" action="/account/password" class="stack">
        <Csrf token={chrome.csrf} />
        <Field
          name="current"
          label="Current password"
          type="password"
          values={{}}
          errors={errors}
          autocomplete="current-password"
        />
        <Field
          name="password"
          label="New password"
          type="password"
          values={{}}
          errors={errors}
          autocomplete="new-password"
          hint="At least 8 characters. Your other sessions are signed out."
        />
        <FormError errors={errors} />
        <div class="actions">
          <button type="submit" class="button primary" id="password-button">
            Change password
          </button>
          {props.passwordChanged && (
            <span class="saved" role="status" id="password-changed">
              Password changed; other sessions signed out
            </span>
          )}
        </div>
      </HxForm>
    </section>
  );
}

function SessionsSection({ chrome, sessions }: AccountProps) {
  const others = sessions.filter((s) => !s.current).length;
  return (
    <section class="card" id="sessions" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p class="muted small">Where you are signed in to this dashboard.</p>
      <ul class="list" id="session-list">
        {sessions.map((s) => (
          <li class="list-row" key={s.hash} data-current={s.current ? "true" : undefined}>
            <div>
              <span class="mono">{s.hash.slice(0, 8)}</span>{" "}
              {s.current && <span class="tag tag-current">This browser</span>}
              <div class="small muted">
                signed in <Time iso={s.createdAt} />, until <Time iso={s.expiresAt} />
              </div>
            </div>
            {!s.current && (
              <form method="post" action={`/account/sessions/${s.hash}/revoke`} class="inline-form">
                <Csrf token={chrome.csrf} />
                <button
                  type="submit"
                  class="button danger small"
                  aria-label={`Sign out session ${s.hash.slice(0, 8)}`}
                >
                  Sign out
                </button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {others > 0 && (
        <form method="post" action="/account/sessions/others" class="actions">
          <Csrf token={chrome.csrf} />
          <button type="submit" class="button" id="sign-out-others">
            Sign out the other {others === 1 ? "session" : `${others} sessions`}
          </button>
        </form>
      )}
    </section>
  );
}

// Project settings, deployment protection: the mode, the password and the bypass tokens for automation.
/** @jsxImportSource preact */

import type { Project, ProtectionMode } from "../../src/model/entities.ts";
import type { BypassToken } from "../../src/store/protection.ts";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { Time } from "../components/time.tsx";
import { Csrf } from "../layout.tsx";

export interface ProtectionProps {
  csrf: string;
  project: Project;
  tokens: BypassToken[];
  /** A bypass token just created: shown once, here. */
  created: string | null;
  /** The protection form the user just submitted ("protection", "password" or "bypass"), with its errors. */
  submitted: string | null;
  values: FormValues;
  errors: FormErrors;
}

const MODES: [ProtectionMode, string][] = [
  ["none", "None: every URL is public"],
  ["previews", "Previews: deployment and branch URLs need access; production is public"],
  ["all", "All: every URL needs access, production included"],
];

export function ProtectionSection(props: ProtectionProps) {
  const { csrf, project } = props;
  const errorsOf = (form: string) => (props.submitted === form ? props.errors : {});
  return (
    <section class="card" id="protection" aria-labelledby="protection-title">
      <h2 id="protection-title">Deployment protection</h2>
      <p class="muted small">
        Protected URLs open for you when signed in here, for whoever knows the project's password, and for
        automation sending a bypass token as the <code>x-vercel-protection-bypass</code> header or query
        parameter. Protected answers are never indexed.
      </p>
      <form method="post" action={`/projects/${project.id}/protection`} id="protection-form" class="stack">
        <Csrf token={csrf} />
        <fieldset class="choices">
          <legend>Protect</legend>
          {MODES.map(([mode, label]) => (
            <label class="choice" key={mode}>
              <input type="radio" name="protection" value={mode} checked={project.protection === mode} />
              {label}
            </label>
          ))}
        </fieldset>
        {errorsOf("protection").protection && (
          <p class="field-error" role="alert">
            {errorsOf("protection").protection}
          </p>
        )}
        <FormError errors={errorsOf("protection")} />
        <div class="actions">
          <button type="submit" class="button primary">
            Save protection
          </button>
        </div>
      </form>

      <h3>Password</h3>
      <p class="muted small">
        {project.protectionPassword
          ? "A password is set: visitors who enter it can view protected URLs."
          : "No password: only you (signed in) and bypass tokens open protected URLs."}
      </p>
      <form
        method="post"
        action={`/projects/${project.id}/protection/password`}
        id="password-form"
        class="stack"
      >
        <Csrf token={csrf} />
        <Field
          name="password"
          label={project.protectionPassword ? "New password" : "Password"}
          type="password"
          values={{}}
          errors={errorsOf("password")}
          autocomplete="new-password"
        />
        <FormError errors={errorsOf("password")} />
        <div class="actions">
          <button type="submit" class="button primary">
            Set password
          </button>
        </div>
      </form>
      {project.protectionPassword && (
        <form method="post" action={`/projects/${project.id}/protection/password/delete`} class="inline-form">
          <Csrf token={csrf} />
          <button type="submit" class="button danger small" id="password-remove">
            Remove password
          </button>
        </form>
      )}

      <h3>Bypass tokens</h3>
      {props.tokens.length > 0 && (
        <ul class="list">
          {props.tokens.map((token) => (
            <li class="list-row" key={token.id}>
              <div>
                <span class="mono">{token.name}</span> <span class="mono muted">{token.prefix}…</span>
                <div class="small muted">
                  created <Time iso={token.createdAt} />
                </div>
              </div>
              <form
                method="post"
                action={`/projects/${project.id}/protection/bypass/${encodeURIComponent(token.id)}/revoke`}
                class="inline-form"
              >
                <Csrf token={csrf} />
                <button type="submit" class="button danger small" aria-label={`Revoke ${token.name}`}>
                  Revoke
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <HxForm
        id="bypass-form"
        action={`/projects/${project.id}/protection/bypass`}
        class="stack"
        region="protection"
      >
        <Csrf token={csrf} />
        {props.created && (
          <div class="notice success" role="status">
            <p>Bypass token created. Copy it now: it will not be shown again.</p>
            <div class="copy-row">
              <input
                id="bypass-token"
                class="mono"
                type="text"
                readonly
                value={props.created}
                aria-label="New bypass token"
              />
              <button type="button" class="button" data-copy="#bypass-token">
                Copy
              </button>
            </div>
          </div>
        )}
        {/* tokenName: "name" is the project name's field on the same page (one id per page). */}
        <Field
          name="tokenName"
          label="Token name"
          values={props.submitted === "bypass" ? { tokenName: props.values.tokenName ?? "" } : {}}
          errors={{ tokenName: errorsOf("bypass").name ?? "" }}
          placeholder="ci"
        />
        <FormError errors={errorsOf("bypass")} />
        <div class="actions">
          <button type="submit" class="button">
            Create bypass token
          </button>
        </div>
      </HxForm>
    </section>
  );
}

// The Git page's commit status card: the project's git provider (GitHub, GitLab, Gitea), its token only as a
// hint, the form to set or replace it, and the last reports sent with their outcome.
/** @jsxImportSource preact */

import type { GitProviderView } from "../../src/deploy/git-provider.ts";
import type { GitReport } from "../../src/store/git-reports.ts";
import { Csrf } from "../layout.tsx";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "./field.tsx";
import { Time } from "./time.tsx";

const KINDS = [
  { kind: "github", label: "GitHub" },
  { kind: "gitlab", label: "GitLab" },
  { kind: "gitea", label: "Gitea / Forgejo" },
];

export interface GitProviderCardProps {
  projectId: string;
  csrf: string;
  provider: GitProviderView | null;
  reports: GitReport[];
  values: FormValues;
  errors: FormErrors;
  saved: boolean;
}

export function GitProviderCard(props: GitProviderCardProps) {
  const { projectId, csrf, provider, reports, errors } = props;
  const values: FormValues = props.values.kind
    ? props.values
    : {
        kind: provider?.kind ?? "github",
        apiUrl: provider?.apiUrl ?? "",
        repository: provider?.repository ?? "",
      };
  return (
    <section class="card" aria-labelledby="provider-title" id="git-provider">
      <h2 id="provider-title">Commit statuses and pull request comments</h2>
      <p class="muted small">
        With an access token of the git host, every deployment of a commit sets the commit's status (pending,
        then success with its URL or failure with its log), and a branch with an open pull or merge request
        gets one comment with its preview URL, edited on every push. A git host that is down never holds up a
        deployment: reports are retried.
      </p>
      {provider ? (
        <p id="provider-current">
          Reporting to <strong>{KINDS.find((k) => k.kind === provider.kind)?.label}</strong> at{" "}
          <span class="mono">{provider.apiUrl}</span>
          {provider.repository && (
            <>
              {" "}
              for <span class="mono">{provider.repository}</span>
            </>
          )}
          , token <span class="mono">{provider.tokenHint}</span>.
          {props.saved && (
            <span class="saved" role="status">
              {" "}
              Saved.
            </span>
          )}
        </p>
      ) : (
        <p class="empty" id="provider-current">
          No git provider: commits get no status from minivercel.
        </p>
      )}
      <HxForm
        id="provider-form"
        action={`/projects/${projectId}/git-provider`}
        class="stack"
        region="git-provider"
      >
        <Csrf token={csrf} />
        <div class={errors.kind ? "field has-error" : "field"}>
          <label for="f-kind">Git host</label>
          <select id="f-kind" name="kind" aria-invalid={errors.kind ? "true" : undefined}>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind} selected={values.kind === k.kind}>
                {k.label}
              </option>
            ))}
          </select>
          {errors.kind && (
            <p class="field-error" id="f-kind-error" role="alert">
              {errors.kind}
            </p>
          )}
        </div>
        <Field
          name="token"
          label={provider ? "Access token (a new one replaces the saved one)" : "Access token"}
          type="password"
          values={{}}
          errors={errors}
          hint="GitHub: a token that may write commit statuses and pull request comments; GitLab: api scope; Gitea: write:repository and write:issue."
          monospace
        />
        <Field
          name="apiUrl"
          label="API URL"
          values={values}
          errors={errors}
          placeholder="https://api.github.com, https://gitlab.com/api/v4 or https://gitea.example.com/api/v1"
          hint="Empty for github.com and gitlab.com; required for Gitea and self-hosted GitLab."
          monospace
        />
        <Field
          name="repository"
          label="Repository"
          values={values}
          errors={errors}
          placeholder="owner/name"
          hint="Empty to use the project's git URL."
          monospace
        />
        <FormError errors={errors} />
        <div class="actions">
          <button type="submit" class="button primary">
            {provider ? "Replace" : "Save"}
          </button>
        </div>
      </HxForm>
      {provider && (
        <form method="post" action={`/projects/${projectId}/git-provider/delete`} class="inline-form">
          <Csrf token={csrf} />
          <button type="submit" class="button danger small" id="provider-remove">
            Remove git provider
          </button>
        </form>
      )}
      {reports.length > 0 && (
        <>
          <h3>Last reports</h3>
          <ul class="list reports" id="provider-reports">
            {reports.map((r) => (
              <li key={r.id} class="list-row report" data-status={r.status}>
                <div>
                  <span class={r.status === "failed" ? "tag tag-failed" : "tag"}>{r.status}</span>{" "}
                  <span class="mono">
                    {r.kind === "status" ? `status ${r.subject.slice(0, 7)}` : `comment on ${r.subject}`}
                  </span>{" "}
                  <span class="muted">{r.state}</span>
                  <p class="small muted">
                    {r.attempts} attempt{r.attempts === 1 ? "" : "s"}
                    {r.lastError && <span class="report-error">: {r.lastError}</span>}
                    {r.status === "pending" && r.attempts > 0 && (
                      <span class="report-next">
                        ; next try <Time iso={r.nextAttemptAt} />
                      </span>
                    )}
                  </p>
                </div>
                <Time iso={r.updatedAt} />
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

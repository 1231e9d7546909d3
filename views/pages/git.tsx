// A project's Git and integrations page: webhook URLs and secret for the git host, the last deliveries and what
// they triggered, commit statuses and PR comments, outgoing webhooks, the push-to-deploy remote, and the command
// line for this project.
/** @jsxImportSource preact */

import type { GitProviderView } from "../../src/deploy/git-provider.ts";
import type { Project } from "../../src/model/entities.ts";
import type { GitReport } from "../../src/store/git-reports.ts";
import type { OutgoingHook } from "../../src/store/outgoing-hooks.ts";
import type { WebhookLogEntry } from "../../src/store/store.ts";
import type { FormErrors, FormValues } from "../components/field.tsx";
import { GitProviderCard } from "../components/git-provider-card.tsx";
import { HooksCard } from "../components/hooks-card.tsx";
import { Time } from "../components/time.tsx";
import { type Chrome, Layout } from "../layout.tsx";
import { ProjectHead } from "./project-head.tsx";

export interface GitPageProps {
  chrome: Chrome;
  project: Project;
  productionUrl: string;
  /** Where the git host posts, per provider. */
  hookUrls: { provider: string; label: string; url: string }[];
  secret: string;
  deliveries: WebhookLogEntry[];
  /** This server's address as the browser reached it (for the push remote and `minivercel login`). */
  serverUrl: string;
  provider: GitProviderView | null;
  reports: GitReport[];
  hooks: OutgoingHook[];
  /** A form sent back with what was typed and what was wrong. */
  form: { section: "provider" | "hooks"; values: FormValues; errors: FormErrors } | null;
  /** The hook just added and its secret (shown once). */
  created: { hookId: string; secret: string } | null;
  /** The provider setting was just saved. */
  saved: boolean;
}

export function GitPage(props: GitPageProps) {
  const { chrome, project, productionUrl, hookUrls, secret, deliveries, serverUrl } = props;
  const remote = `${serverUrl}/git/${project.subDomain}.git`;
  return (
    <Layout chrome={chrome} title={`${project.name} · Git`} nav="projects">
      <ProjectHead project={project} productionUrl={productionUrl} tab="git" />
      <section class="card" aria-labelledby="hooks-title" id="webhooks">
        <h2 id="hooks-title">Webhooks</h2>
        <p class="muted small">
          Add one of these to the repository on its git host (content type <code>application/json</code>, push
          and pull request events) with the secret below: pushes then deploy, and closing a pull request
          retires its previews.
        </p>
        <ul class="copy-list">
          {hookUrls.map(({ provider, label, url }) => (
            <li key={provider}>
              <label for={`hook-${provider}`}>{label}</label>
              <div class="copy-row">
                <input id={`hook-${provider}`} class="mono" value={url} readonly />
                <button type="button" class="button small" data-copy={`#hook-${provider}`}>
                  Copy
                </button>
              </div>
            </li>
          ))}
          <li>
            <label for="hook-secret">Secret</label>
            <div class="copy-row">
              <input
                id="hook-secret"
                class="mono"
                type="password"
                value={secret}
                readonly
                autocomplete="off"
              />
              <button type="button" class="button small" data-copy="#hook-secret">
                Copy
              </button>
            </div>
          </li>
        </ul>
      </section>
      <section class="card" aria-labelledby="deliveries-title" id="deliveries">
        <h2 id="deliveries-title">Recent deliveries</h2>
        {deliveries.length === 0 ? (
          <p class="empty">No deliveries yet. The git host's test delivery (a ping) shows up here.</p>
        ) : (
          <ul class="list deliveries">
            {deliveries.map((d) => (
              <li key={d.id} class="list-row delivery" data-status={d.status}>
                <div>
                  <span class={d.status >= 400 ? "tag tag-failed" : "tag"}>{d.status}</span>{" "}
                  <span class="mono">{d.provider}</span>
                  {d.event && <span class="mono muted"> {d.event}</span>}
                  <p class="delivery-outcome">
                    {d.outcome}
                    {d.deploymentIds.map((id) => (
                      <>
                        {" "}
                        <a key={id} class="mono" href={`/deployments/${id}`}>
                          {id.slice(0, 8)}
                        </a>
                      </>
                    ))}
                  </p>
                </div>
                <Time iso={d.receivedAt} />
              </li>
            ))}
          </ul>
        )}
      </section>
      <GitProviderCard
        projectId={project.id}
        csrf={chrome.csrf}
        provider={props.provider}
        reports={props.reports}
        values={props.form?.section === "provider" ? props.form.values : {}}
        errors={props.form?.section === "provider" ? props.form.errors : {}}
        saved={props.saved}
      />
      <HooksCard
        projectId={project.id}
        csrf={chrome.csrf}
        hooks={props.hooks}
        created={props.created}
        values={props.form?.section === "hooks" ? props.form.values : {}}
        errors={props.form?.section === "hooks" ? props.form.errors : {}}
      />
      <section class="card" aria-labelledby="push-title" id="push">
        <h2 id="push-title">Push to deploy</h2>
        <p class="muted small">
          This server is a git remote for the project: a push deploys (the production branch to production,
          others as previews). The password is an <a href="/account#tokens">API token</a>.
        </p>
        <div class="copy-block">
          <pre class="mono" id="push-commands" tabindex={0}>
            {`git remote add minivercel ${remote}\ngit push minivercel ${project.productionBranch}`}
          </pre>
          <button type="button" class="button small" data-copy="#push-commands">
            Copy
          </button>
        </div>
      </section>
      <section class="card" aria-labelledby="cli-title" id="cli">
        <h2 id="cli-title">Command line</h2>
        <div class="copy-block">
          <pre class="mono" id="cli-project-commands" tabindex={0}>
            {`minivercel login ${serverUrl}\nminivercel deploy --prod --project ${project.subDomain}`}
          </pre>
          <button type="button" class="button small" data-copy="#cli-project-commands">
            Copy
          </button>
        </div>
      </section>
    </Layout>
  );
}

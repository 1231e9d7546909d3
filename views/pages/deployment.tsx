// One deployment: live summary (status, commit, branch, duration, URLs, actions), the streaming build log, and
// the runtime logs of its functions.
/** @jsxImportSource preact */

import type { Deployment, Project } from "../../src/model/entities.ts";
import { isTerminal } from "../../src/model/status.ts";
import { type AppServerProps, AppServerSection } from "../components/app-server.tsx";
import { StatusBadge } from "../components/badge.tsx";
import { type RuntimeLogProps, RuntimeLogSection } from "../components/runtime-log.tsx";
import { Time } from "../components/time.tsx";
import { buildDuration, formatDuration, shortSha } from "../format.ts";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export interface DeploymentProps {
  chrome: Chrome;
  project: Project;
  deployment: Deployment;
  url: string;
  productionUrl: string;
  now: Date;
  /** An error from the last action (cancel, redeploy), shown above the buttons. */
  error: string | null;
  /** Its functions' output; absent for a deployment without functions. */
  runtime?: RuntimeLogProps;
  /** Its app server; absent for a deployment without one. */
  app?: AppServerProps;
}

export function DeploymentPage(props: DeploymentProps) {
  const { chrome, project, deployment: d } = props;
  return (
    <Layout chrome={chrome} title={`Deployment ${d.id.slice(0, 8)} · ${project.name}`} nav="projects">
      <div class="project-head">
        <p class="crumbs">
          <a href="/">Projects</a> / <a href={`/projects/${project.id}`}>{project.name}</a> /
        </p>
        <h1>
          Deployment <span class="mono">{d.id.slice(0, 8)}</span>
        </h1>
      </div>
      <DeploymentSummary {...props} />
      <section class="card log-card" aria-labelledby="log-title">
        <div class="log-toolbar">
          <h2 id="log-title">Build log</h2>
          <span class="log-state small muted" id="log-state" aria-live="polite" />
          <button type="button" class="button small" id="log-follow" hidden>
            Follow log ↓
          </button>
          <a class="button small" href={`/deployments/${d.id}/log.txt`} download>
            Download
          </a>
        </div>
        <div
          id="log"
          class="log"
          role="log"
          aria-labelledby="log-title"
          tabindex={0}
          data-stream={`/api/deployments/${d.id}/logs/stream`}
          data-status={d.status}
        >
          <noscript>The live log needs JavaScript; use Download for the full text.</noscript>
        </div>
      </section>
      {props.app && <AppServerSection {...props.app} />}
      {props.runtime && <RuntimeLogSection {...props.runtime} />}
    </Layout>
  );
}

/** Re-fetched every 2 s (and on each status event of the log stream) until the deployment finishes. */
export function DeploymentSummary(props: DeploymentProps) {
  const { chrome, project, deployment: d, url, productionUrl, now, error } = props;
  const duration = buildDuration(d, now);
  const running = !isTerminal(d.status);
  const current = project.productionDeploymentId === d.id;
  const poll = running
    ? {
        "hx-get": `/deployments/${d.id}/summary`,
        "hx-trigger": "every 2s, mv:status",
        "hx-swap": "outerHTML",
      }
    : {};
  return (
    <section
      class="card summary"
      id="summary"
      data-status={d.status}
      aria-label="Deployment summary"
      {...poll}
    >
      <div class="summary-status">
        <StatusBadge status={d.status} />
        <span class={`tag tag-${d.target}`}>{d.target === "production" ? "Production" : "Preview"}</span>
        {current && <span class="tag tag-current">Current production</span>}
      </div>
      {d.statusReason && <p class="status-reason">{d.statusReason}</p>}
      <dl class="facts">
        <div>
          <dt>Branch</dt>
          <dd class="mono">{d.branch ?? "—"}</dd>
        </div>
        <div>
          <dt>Commit</dt>
          <dd class="mono" title={d.commitSha ?? undefined}>
            {d.commitSha ? shortSha(d.commitSha) : running ? "resolving…" : "—"}
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={d.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration === null ? "—" : `${formatDuration(duration)}${running ? " so far" : ""}`}</dd>
        </div>
        <div class="wide">
          <dt>URLs</dt>
          <dd class="urls">
            <SiteLink href={url} live={d.status === "READY"} />
            {current && <SiteLink href={productionUrl} live />}
          </dd>
        </div>
      </dl>
      <div class="actions">
        {running && (
          <ActionButton id="cancel-button" action={`/deployments/${d.id}/cancel`} csrf={chrome.csrf} danger>
            Cancel
          </ActionButton>
        )}
        <ActionButton id="redeploy-button" action={`/deployments/${d.id}/redeploy`} csrf={chrome.csrf}>
          Redeploy
        </ActionButton>
        {d.status === "READY" && !current && (
          <ActionButton id="promote-button" action={`/deployments/${d.id}/promote`} csrf={chrome.csrf}>
            Promote to production
          </ActionButton>
        )}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function SiteLink({ href, live }: { href: string; live: boolean }) {
  const host = href.replace(/^https?:\/\//, "");
  return live ? (
    <a href={href} class="external mono" target="_blank" rel="noopener noreferrer">
      {host}
    </a>
  ) : (
    <span class="mono muted">{host}</span>
  );
}

function ActionButton(props: {
  id: string;
  action: string;
  csrf: string;
  danger?: boolean;
  children: string;
}) {
  return (
    <form method="post" action={props.action} class="inline-form">
      <Csrf token={props.csrf} />
      <button
        type="submit"
        id={props.id}
        class={props.danger ? "button danger" : "button"}
        hx-post={props.action}
        hx-target="#summary"
        hx-select="#summary"
        hx-swap="outerHTML"
      >
        {props.children}
      </button>
    </form>
  );
}

// One deployment: live summary (status, commit, branch, duration, URLs, actions), the streaming build log, and
// the runtime logs of its functions.
/** @jsxImportSource preact */

import type { Deployment, Project } from "../../src/model/entities.ts";
import { isTerminal } from "../../src/model/status.ts";
import { type AppServerProps, AppServerSection } from "../components/app-server.tsx";
import { StatusBadge } from "../components/badge.tsx";
import { PreviewImage, type PreviewView } from "../components/preview-image.tsx";
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
  /** Every URL serving it now (none unless READY); the first is its immutable URL. */
  aliases: Alias[];
  /** The commit's page on its git host (GitHub, GitLab, Bitbucket), or null. */
  commitUrl: string | null;
  /** A failed build's error lines (with their log line numbers), shown in the summary and linked into the log. */
  errorLines: ErrorLine[];
  now: Date;
  /** An error from the last action (cancel, redeploy), shown above the buttons. */
  error: string | null;
  /** Its front page as captured once it was ready, or why there is no image. */
  preview?: PreviewView;
  /** Its functions' output; absent for a deployment without functions. */
  runtime?: RuntimeLogProps;
  /** Its app server; absent for a deployment without one. */
  app?: AppServerProps;
}

/** A URL that serves a deployment, and why: its own, its branch's newest, production, the custom domain. */
export interface Alias {
  kind: "deployment" | "branch" | "production" | "domain";
  url: string;
  /** A custom domain whose DNS check has not passed yet (not served until it does). */
  pending?: boolean;
}

export interface ErrorLine {
  seq: number;
  text: string;
}

const ALIAS_LABEL: Record<Alias["kind"], string> = {
  deployment: "This deployment",
  branch: "Branch",
  production: "Production",
  domain: "Domain",
};

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
  const { chrome, project, deployment: d, url, now, error } = props;
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
      {d.commitMessage && <p class="summary-title">{d.commitMessage}</p>}
      {d.statusReason && d.status !== "FAIL" && <p class="status-reason">{d.statusReason}</p>}
      {d.status === "FAIL" && <FailureLines reason={d.statusReason} lines={props.errorLines} />}
      <dl class="facts">
        <div>
          <dt>Branch</dt>
          <dd class="mono">{d.branch ?? "—"}</dd>
        </div>
        <div>
          <dt>Commit</dt>
          <dd class="mono" title={d.commitSha ?? undefined}>
            {d.commitSha && props.commitUrl ? (
              <a
                href={props.commitUrl}
                class="external"
                target="_blank"
                rel="noopener noreferrer"
                id="commit-link"
              >
                {shortSha(d.commitSha)}
              </a>
            ) : d.commitSha ? (
              shortSha(d.commitSha)
            ) : running ? (
              "resolving…"
            ) : (
              "—"
            )}
          </dd>
        </div>
        {d.commitAuthor && (
          <div>
            <dt>Author</dt>
            <dd>{d.commitAuthor}</dd>
          </div>
        )}
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
        <Urls {...props} url={url} running={running} />
      </dl>
      {props.preview && d.status === "READY" && d.expiredAt === null && (
        <PreviewImage preview={props.preview} name={project.name} href={url} />
      )}
      <div class="actions">
        {running && (
          <ActionButton id="cancel-button" action={`/deployments/${d.id}/cancel`} csrf={chrome.csrf} danger>
            Cancel
          </ActionButton>
        )}
        <ActionButton id="redeploy-button" action={`/deployments/${d.id}/redeploy`} csrf={chrome.csrf}>
          Redeploy
        </ActionButton>
        {d.status === "READY" && !current && d.expiredAt === null && (
          <a class="button" id="promote-button" href={`/deployments/${d.id}/promote`}>
            Promote to production…
          </a>
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

/** Where it is served: every alias once READY; the URL it will have while building; nothing for a failure. */
function Urls(props: DeploymentProps & { running: boolean }) {
  const { deployment: d, aliases, url, running } = props;
  if (d.expiredAt !== null)
    return (
      <div class="wide">
        <dt>URLs</dt>
        <dd class="muted">Expired: its files were deleted after the preview retention period.</dd>
      </div>
    );
  if (aliases.length > 0)
    return (
      <div class="wide">
        <dt>URLs</dt>
        <dd>
          <ul class="aliases" id="aliases">
            {aliases.map((alias) => (
              <li key={alias.url} data-kind={alias.kind}>
                <span class="alias-kind">{ALIAS_LABEL[alias.kind]}</span>
                {alias.pending ? (
                  <span class="mono muted">
                    {host(alias.url)} <span class="tag">DNS check pending</span>
                  </span>
                ) : (
                  <SiteLink href={alias.url} live />
                )}
              </li>
            ))}
          </ul>
        </dd>
      </div>
    );
  if (running)
    return (
      <div class="wide">
        <dt>URL when ready</dt>
        <dd class="urls">
          <SiteLink href={url} live={false} />
        </dd>
      </div>
    );
  return null;
}

/** A failed build's cause: the reason, and the log's error lines, each a link that jumps to it in the log. */
function FailureLines({ reason, lines }: { reason: string | null; lines: ErrorLine[] }) {
  return (
    <div class="failure" id="failure">
      {reason && <p class="status-reason">{reason}</p>}
      {lines.length > 0 && (
        <ol class="error-lines" aria-label="Error lines in the build log">
          {lines.map((line) => (
            <li key={line.seq}>
              <a href={`#L${line.seq}`} class="error-line-link" data-seq={line.seq}>
                <span class="error-line-no">{line.seq}</span>
                <code>{line.text}</code>
              </a>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

const host = (url: string) => url.replace(/^https?:\/\//, "");

function SiteLink({ href, live }: { href: string; live: boolean }) {
  return live ? (
    <a href={href} class="external mono" target="_blank" rel="noopener noreferrer">
      {host(href)}
    </a>
  ) : (
    <span class="mono muted">{host(href)}</span>
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

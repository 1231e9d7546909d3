// One deployment in a project's list: the commit subject first, then branch, author, environment, age, duration
// and status (live), with a menu of what can be done with it (each action a CSRF-protected form).
/** @jsxImportSource preact */

import type { Deployment } from "../../src/model/entities.ts";
import { isTerminal } from "../../src/model/status.ts";
import { buildDuration, formatDuration, shortSha } from "../format.ts";
import { Csrf } from "../layout.tsx";
import { StatusBadge } from "./badge.tsx";
import { Time } from "./time.tsx";

export interface DeploymentRowProps {
  deployment: Deployment;
  /** Its immutable URL. */
  url: string;
  isProduction: boolean;
  now: Date;
  csrf: string;
}

/** What a deployment is called where there is no commit subject: an upload, or a build not yet cloned. */
export function deploymentTitle(d: Deployment): string {
  if (d.commitMessage) return d.commitMessage;
  if (d.commitSha) return `Commit ${shortSha(d.commitSha)}`;
  return d.branch ? `Deployment of ${d.branch}` : "Uploaded files";
}

export function DeploymentRow(props: DeploymentRowProps) {
  const { deployment: d, isProduction, now } = props;
  const duration = buildDuration(d, now);
  const short = d.id.slice(0, 8);
  return (
    <li class="deployment-row" id={`row-${d.id}`}>
      <a class="row-link" href={`/deployments/${d.id}`}>
        <span class="row-main">
          <span class="row-title">{deploymentTitle(d)}</span>
          <span class="tags">
            <span class={`tag tag-${d.target}`}>{d.target === "production" ? "Production" : "Preview"}</span>
            {isProduction && <span class="tag tag-current">Current</span>}
          </span>
        </span>
        <span class="row-meta">
          {d.branch && <span class="mono row-branch">{d.branch}</span>}
          {d.commitAuthor && <span class="row-author">{d.commitAuthor}</span>}
          {d.commitSha && <span class="mono">{shortSha(d.commitSha)}</span>}
          <span class="mono row-id">{short}</span>
          <Time iso={d.createdAt} />
          {duration !== null && <span>{formatDuration(duration)}</span>}
        </span>
      </a>
      <StatusBadge status={d.status} deploymentId={d.id} />
      <RowMenu {...props} />
    </li>
  );
}

function RowMenu({ deployment: d, url, isProduction, csrf }: DeploymentRowProps) {
  const short = d.id.slice(0, 8);
  const live = d.status === "READY" && d.expiredAt === null;
  const running = !isTerminal(d.status);
  return (
    <details class="row-menu">
      <summary class="button small" aria-label={`Actions for deployment ${short}`} title="Actions">
        <span aria-hidden="true">⋯</span>
      </summary>
      <div class="menu">
        {live && (
          <a class="menu-item" href={url} target="_blank" rel="noopener noreferrer">
            Visit
          </a>
        )}
        {live && (
          <>
            <input
              class="copy-source"
              id={`url-${d.id}`}
              value={url}
              readonly
              tabindex={-1}
              aria-label={`URL of deployment ${short}`}
            />
            <button type="button" class="menu-item" data-copy={`#url-${d.id}`} data-copy-label="Copy URL">
              Copy URL
            </button>
          </>
        )}
        {live && !isProduction && d.target === "preview" && (
          <MenuForm action={`/deployments/${d.id}/promote`} csrf={csrf} name="promote">
            Promote to production
          </MenuForm>
        )}
        {live && !isProduction && d.target === "production" && (
          <MenuForm action={`/deployments/${d.id}/promote`} csrf={csrf} name="rollback">
            Roll back to this
          </MenuForm>
        )}
        <MenuForm action={`/deployments/${d.id}/redeploy`} csrf={csrf} name="redeploy">
          Redeploy
        </MenuForm>
        {running && (
          <MenuForm action={`/deployments/${d.id}/cancel`} csrf={csrf} name="cancel" danger>
            Cancel
          </MenuForm>
        )}
      </div>
    </details>
  );
}

function MenuForm(props: { action: string; csrf: string; name: string; danger?: boolean; children: string }) {
  return (
    <form method="post" action={props.action} class="menu-form">
      <Csrf token={props.csrf} />
      <button type="submit" class={props.danger ? "menu-item danger" : "menu-item"} data-action={props.name}>
        {props.children}
      </button>
    </form>
  );
}

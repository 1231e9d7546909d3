// One deployment in a project's list: the commit subject first, then branch, author, environment, age, duration
// and status (live), with a menu of what can be done with it (each change a CSRF-protected form, or for promote
// and roll back a link to their confirmation).
/** @jsxImportSource preact */

import type { Deployment } from "../../src/model/entities.ts";
import { isTerminal } from "../../src/model/status.ts";
import { buildDuration, deploymentTitle, formatDuration, shortSha } from "../format.ts";
import { Csrf } from "../layout.tsx";
import { StatusBadge } from "./badge.tsx";
import { Time } from "./time.tsx";

export interface DeploymentRowProps {
  deployment: Deployment;
  /** Its immutable URL. */
  url: string;
  isProduction: boolean;
  /** When the deployment production serves was created: an older production deployment is a roll back. */
  productionCreatedAt: string | null;
  now: Date;
  csrf: string;
  /** Whether the viewer may act on it (deploy, promote, cancel): a team's viewers only read. */
  canWrite?: boolean;
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

function RowMenu({
  deployment: d,
  url,
  isProduction,
  productionCreatedAt,
  csrf,
  canWrite = true,
}: DeploymentRowProps) {
  const short = d.id.slice(0, 8);
  const rollback =
    d.target === "production" && productionCreatedAt !== null && d.createdAt < productionCreatedAt;
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
        {/* Promote and roll back ask first (naming both commits), so these lead to the confirmation. */}
        {canWrite && live && !isProduction && (
          <a
            class="menu-item"
            href={`/deployments/${d.id}/promote`}
            data-action={rollback ? "rollback" : "promote"}
          >
            {rollback ? "Roll back to this…" : "Promote to production…"}
          </a>
        )}
        {canWrite && (
          <MenuForm action={`/deployments/${d.id}/redeploy`} csrf={csrf} name="redeploy">
            Redeploy
          </MenuForm>
        )}
        {canWrite && running && (
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

// One deployment in a project's list: status (live), target, branch, commit, age, duration.
/** @jsxImportSource preact */

import type { Deployment } from "../../src/model/entities.ts";
import { buildDuration, formatDuration, shortSha } from "../format.ts";
import { StatusBadge } from "./badge.tsx";
import { Time } from "./time.tsx";

export function DeploymentRow(props: { deployment: Deployment; isProduction: boolean; now: Date }) {
  const { deployment: d, isProduction, now } = props;
  const duration = buildDuration(d, now);
  return (
    <li class="deployment-row">
      <a class="row-link" href={`/deployments/${d.id}`} aria-label={`Deployment ${d.id.slice(0, 8)}`}>
        <span class="row-main">
          <span class="mono row-id">{d.id.slice(0, 8)}</span>
          <span class={`tag tag-${d.target}`}>{d.target === "production" ? "Production" : "Preview"}</span>
          {isProduction && <span class="tag tag-current">Current</span>}
        </span>
        <span class="row-meta">
          {d.branch && <span class="mono">{d.branch}</span>}
          {d.commitSha && <span class="mono muted">{shortSha(d.commitSha)}</span>}
          <Time iso={d.createdAt} />
          {duration !== null && <span class="muted">{formatDuration(duration)}</span>}
        </span>
      </a>
      <StatusBadge status={d.status} deploymentId={d.id} />
    </li>
  );
}

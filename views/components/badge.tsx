// Deployment status badge; while the deployment is unfinished it re-fetches itself every 2 s (htmx).
/** @jsxImportSource preact */

import { type DeploymentStatus, isTerminal } from "../../src/model/status.ts";
import { STATUS_LABEL } from "../format.ts";

export function StatusBadge(props: { status: DeploymentStatus; deploymentId?: string }) {
  const { status, deploymentId } = props;
  const poll =
    deploymentId && !isTerminal(status)
      ? {
          "hx-get": `/deployments/${deploymentId}/badge`,
          "hx-trigger": "every 2s",
          "hx-swap": "outerHTML",
        }
      : {};
  return (
    <span class={`badge badge-${status.toLowerCase().replace("_", "-")}`} data-status={status} {...poll}>
      <span class="badge-dot" aria-hidden="true" />
      {STATUS_LABEL[status]}
    </span>
  );
}

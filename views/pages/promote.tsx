// Promote or roll back: the confirmation that names what production will serve instead of what it serves now,
// and the result card the project page shows afterwards, with its Undo.
/** @jsxImportSource preact */

import type { Deployment, Project } from "../../src/model/entities.ts";
import { Time } from "../components/time.tsx";
import { deploymentTitle, shortSha } from "../format.ts";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export interface PromoteProps {
  chrome: Chrome;
  project: Project;
  target: Deployment;
  /** What production serves now (null: nothing yet). */
  current: Deployment | null;
  /** Why it cannot be promoted (not READY, expired, already production), or null. */
  problem: string | null;
}

/** "Roll back" when production goes to an earlier production deployment; "promote" otherwise. */
export const isRollback = (target: Deployment, current: Deployment | null): boolean =>
  target.target === "production" && current !== null && target.createdAt < current.createdAt;

export function PromotePage(props: PromoteProps) {
  const { chrome, project, target, current, problem } = props;
  const rollback = isRollback(target, current);
  const verb = rollback ? "Roll back" : "Promote";
  return (
    <Layout chrome={chrome} title={`${verb} · ${project.name}`} nav="projects">
      <div class="project-head">
        <p class="crumbs">
          <a href="/">Projects</a> / <a href={`/projects/${project.id}`}>{project.name}</a> /
        </p>
        <h1>{rollback ? "Roll back production" : "Promote to production"}</h1>
      </div>
      <section class="card confirm-card" aria-labelledby="confirm-title">
        <h2 id="confirm-title">Production will serve</h2>
        <DeploymentFacts deployment={target} id="confirm-target" />
        <h2>Instead of</h2>
        {current ? (
          <DeploymentFacts deployment={current} id="confirm-current" />
        ) : (
          <p class="muted">Nothing: the project has no production deployment yet.</p>
        )}
        <p class="muted small">
          The switch is immediate, with no rebuild and no copy of files; the project page offers an Undo.
        </p>
        {problem ? (
          <p class="form-error" role="alert" id="confirm-problem">
            {problem}
          </p>
        ) : (
          <form method="post" action={`/deployments/${target.id}/promote`} class="actions">
            <Csrf token={chrome.csrf} />
            <button type="submit" class="button primary" id="confirm-button">
              {rollback
                ? `Roll back to ${commitName(target)}`
                : `Promote ${commitName(target)} to production`}
            </button>
            <a class="button" href={`/projects/${project.id}`}>
              Cancel
            </a>
          </form>
        )}
      </section>
    </Layout>
  );
}

/** A deployment as a short name: its commit, or its id when it has none. */
export const commitName = (d: Deployment): string => (d.commitSha ? shortSha(d.commitSha) : d.id.slice(0, 8));

function DeploymentFacts({ deployment: d, id }: { deployment: Deployment; id: string }) {
  return (
    <div class="confirm-facts" id={id}>
      <p class="summary-title">
        <a href={`/deployments/${d.id}`}>{deploymentTitle(d)}</a>
      </p>
      <p class="row-meta">
        {d.commitSha && <span class="mono">{shortSha(d.commitSha)}</span>}
        {d.branch && <span class="mono">{d.branch}</span>}
        {d.commitAuthor && <span>{d.commitAuthor}</span>}
        <span class="mono">{d.id.slice(0, 8)}</span>
        <Time iso={d.createdAt} />
      </p>
    </div>
  );
}

/** After a promote or rollback: what production serves now, and the way back. */
export function PromotedCard(props: {
  csrf: string;
  promoted: Deployment;
  from: Deployment | null;
  productionUrl: string;
}) {
  const { csrf, promoted, from, productionUrl } = props;
  return (
    <section class="card notice-card success" id="promoted" role="status">
      <p>
        Production now serves <strong>{deploymentTitle(promoted)}</strong>{" "}
        <span class="mono">({commitName(promoted)})</span> at{" "}
        <a href={productionUrl} class="external" target="_blank" rel="noopener noreferrer">
          {productionUrl.replace(/^https?:\/\//, "")}
        </a>
        .
      </p>
      {from && (
        <form method="post" action={`/deployments/${from.id}/promote`} class="inline-form">
          <Csrf token={csrf} />
          <button type="submit" class="button" id="undo-button">
            Undo: serve {commitName(from)} again
          </button>
        </form>
      )}
    </section>
  );
}

// A project's deployments: deploy button, and the list with live status badges.
/** @jsxImportSource preact */

import type { ProjectCrons } from "../../src/deploy/crons.ts";
import type { Deployment, Project } from "../../src/model/entities.ts";
import type { BuildsStatus } from "../../src/worker/readiness.ts";
import { BuildsBanner } from "../components/builds-banner.tsx";
import { CronJobs } from "../components/cron-jobs.tsx";
import { DeploymentRow } from "../components/deployment-row.tsx";
import { type DropLimits, DropZone } from "../components/drop-zone.tsx";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { ProjectHead } from "./project-head.tsx";

export interface ProjectProps {
  chrome: Chrome;
  project: Project;
  productionUrl: string;
  deployments: Deployment[];
  nextCursor: string | null;
  now: Date;
  values: FormValues;
  errors: FormErrors;
  /** Whether this server can build: a banner says why not (null: not known here). */
  builds: BuildsStatus | null;
  /** A project without a git repository deploys dropped files instead (null: it has one). */
  dropLimits: DropLimits | null;
  /** The production deployment's cron jobs and their latest runs (the section shows only when there are jobs). */
  crons: ProjectCrons;
}

export function ProjectPage(props: ProjectProps) {
  const { chrome, project, productionUrl, deployments, nextCursor, now } = props;
  return (
    <Layout chrome={chrome} title={`${project.name} · Deployments`} nav="projects" drop={!project.gitUrl}>
      <ProjectHead project={project} productionUrl={productionUrl} tab="deployments" />
      <BuildsBanner builds={props.builds} />
      <DeployForm {...props} />
      {project.previousProductionDeploymentId && (
        <form method="post" action={`/projects/${project.id}/rollback`} class="card rollback-card">
          <Csrf token={chrome.csrf} />
          <p>
            Production can go back to the previous production deployment{" "}
            <a class="mono" href={`/deployments/${project.previousProductionDeploymentId}`}>
              {project.previousProductionDeploymentId.slice(0, 8)}
            </a>{" "}
            at once: no rebuild, no copy.
          </p>
          <button type="submit" class="button" id="rollback-button">
            Roll back production
          </button>
        </form>
      )}
      <CronJobs crons={props.crons} />
      <section class="card" aria-labelledby="deployments-title">
        <h2 id="deployments-title">Deployments</h2>
        {deployments.length === 0 ? (
          <p class="empty">No deployments yet. Deploy the production branch to get started.</p>
        ) : (
          <ul class="deployment-list">
            {deployments.map((d) => (
              <DeploymentRow
                key={d.id}
                deployment={d}
                isProduction={d.id === project.productionDeploymentId}
                now={now}
              />
            ))}
          </ul>
        )}
        {nextCursor && (
          <p class="pager">
            <a class="button" href={`/projects/${project.id}?cursor=${encodeURIComponent(nextCursor)}`}>
              Older deployments
            </a>
          </p>
        )}
      </section>
    </Layout>
  );
}

function DeployForm({ chrome, project, values, errors, dropLimits }: ProjectProps) {
  if (!project.gitUrl) {
    return (
      <div class="stack deploy-card" id="deploy-form">
        <p class="notice">
          This project has no git repository yet: drop a new version of the site below, deploy it with{" "}
          <code>minivercel deploy --prod</code>, or{" "}
          <a href={`/projects/${project.id}/settings`}>set one in settings</a> to build from git.
        </p>
        <FormError errors={errors} />
        {dropLimits && (
          <DropZone
            limits={dropLimits}
            project={{ id: project.id, name: project.name }}
            title="Drop a new version"
          />
        )}
      </div>
    );
  }
  return (
    <HxForm id="deploy-form" action={`/projects/${project.id}/deploy`} class="card deploy-card">
      <Csrf token={chrome.csrf} />
      <div class="inline-fields">
        <Field
          name="branch"
          label="Branch"
          values={values}
          errors={errors}
          placeholder={project.productionBranch}
          hint={`Empty deploys ${project.productionBranch} to production.`}
          monospace
        />
        <button type="submit" class="button primary" id="deploy-button">
          Deploy
        </button>
      </div>
      <FormError errors={errors} />
    </HxForm>
  );
}

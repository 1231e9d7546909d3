// A project's deployments: deploy button, and the list with live status badges.
/** @jsxImportSource preact */

import type { ProjectCrons } from "../../src/deploy/crons.ts";
import type { Deployment, Project } from "../../src/model/entities.ts";
import { STATUSES } from "../../src/model/status.ts";
import type { BuildsStatus } from "../../src/worker/readiness.ts";
import { BuildsBanner } from "../components/builds-banner.tsx";
import { CronJobs } from "../components/cron-jobs.tsx";
import { DeploymentRow } from "../components/deployment-row.tsx";
import { type DropLimits, DropZone } from "../components/drop-zone.tsx";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import type { PreviewView } from "../components/preview-image.tsx";
import { ProductionCard } from "../components/production-card.tsx";
import { STATUS_LABEL } from "../format.ts";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { ProjectHead } from "./project-head.tsx";
import { PromotedCard } from "./promote.tsx";

export interface ProjectProps {
  chrome: Chrome;
  project: Project;
  productionUrl: string;
  /** This page of the list, each with its immutable URL. */
  deployments: { deployment: Deployment; url: string }[];
  nextCursor: string | null;
  /** The list's filters as asked (query values), and what was wrong with them. */
  filter: DeploymentFilterValues;
  filterError: string | null;
  /** Whether this is a later page (a link back to the newest shows). */
  paged: boolean;
  now: Date;
  values: FormValues;
  errors: FormErrors;
  /** Whether this server can build: a banner says why not (null: not known here). */
  builds: BuildsStatus | null;
  /** A project without a git repository deploys dropped files instead (null: it has one). */
  dropLimits: DropLimits | null;
  /** The production deployment's cron jobs and their latest runs (the section shows only when there are jobs). */
  crons: ProjectCrons;
  /** Right after a promote or rollback: what production serves now, and what Undo goes back to. */
  promoted: { promoted: Deployment; from: Deployment | null } | null;
  /** The deployment production serves, or null. */
  production: Deployment | null;
  /** The custom domain as a URL, or null. */
  domainUrl: string | null;
  /** The production commit's page on its git host, or null. */
  productionCommitUrl: string | null;
  /** Production's preview image, or why there is none (null: nothing is live). */
  productionPreview: PreviewView | null;
  /** Whether the viewer may deploy and act on deployments (false for a team's viewers, who only read). */
  canWrite: boolean;
}

/** The deployment list's filters, as the query string carries them ("" for any). */
export interface DeploymentFilterValues {
  branch: string;
  target: string;
  status: string;
}

export function ProjectPage(props: ProjectProps) {
  const { chrome, project, productionUrl, deployments, nextCursor, now, filter } = props;
  const filtered = filter.branch !== "" || filter.target !== "" || filter.status !== "";
  return (
    <Layout chrome={chrome} title={`${project.name} · Deployments`} nav="projects" drop={!project.gitUrl}>
      <ProjectHead project={project} productionUrl={productionUrl} tab="deployments" />
      <BuildsBanner builds={props.builds} />
      {props.promoted && (
        <PromotedCard
          csrf={chrome.csrf}
          promoted={props.promoted.promoted}
          from={props.promoted.from}
          productionUrl={productionUrl}
        />
      )}
      <ProductionCard
        project={project}
        production={props.production}
        productionUrl={productionUrl}
        domainUrl={props.domainUrl}
        commitUrl={props.productionCommitUrl}
        preview={props.productionPreview}
      />
      {props.canWrite && <DeployForm {...props} />}
      <CronJobs crons={props.crons} />
      <section class="card" aria-labelledby="deployments-title">
        <h2 id="deployments-title">Deployments</h2>
        <DeploymentFilters project={project} filter={filter} error={props.filterError} />
        {deployments.length === 0 ? (
          <p class="empty">
            {filtered
              ? "No deployments match these filters."
              : "No deployments yet. Deploy the production branch to get started."}
          </p>
        ) : (
          <ul class="deployment-list">
            {deployments.map(({ deployment: d, url }) => (
              <DeploymentRow
                key={d.id}
                deployment={d}
                url={url}
                isProduction={d.id === project.productionDeploymentId}
                productionCreatedAt={props.production?.createdAt ?? null}
                now={now}
                csrf={chrome.csrf}
                canWrite={props.canWrite}
              />
            ))}
          </ul>
        )}
        {(nextCursor || props.paged) && (
          <p class="pager">
            {props.paged && (
              <a class="button" href={listHref(project.id, filter, null)}>
                Newest deployments
              </a>
            )}
            {nextCursor && (
              <a class="button" href={listHref(project.id, filter, nextCursor)} id="older-button">
                Older deployments
              </a>
            )}
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

/** The list's address with its filters (and a page cursor), as the filter form submits it. */
function listHref(projectId: string, filter: DeploymentFilterValues, cursor: string | null): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== "") query.set(key, value);
  if (cursor) query.set("cursor", cursor);
  const text = query.toString();
  return `/projects/${projectId}${text ? `?${text}` : ""}#deployments-title`;
}

const STATUS_CHOICES: [string, string][] = STATUSES.filter((s) => s !== "NOT_STARTED").map((s) => [
  s,
  STATUS_LABEL[s],
]);

/** Filters by branch, environment and status: a plain GET form, so the filtered list has its own address. */
function DeploymentFilters(props: {
  project: Project;
  filter: DeploymentFilterValues;
  error: string | null;
}) {
  const { project, filter, error } = props;
  return (
    <form
      method="get"
      action={`/projects/${project.id}`}
      class="filters"
      id="filters"
      aria-label="Filter deployments"
    >
      <label>
        <span>Branch</span>
        <input
          type="text"
          name="branch"
          id="filter-branch"
          value={filter.branch}
          placeholder="any"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "filter-error" : undefined}
        />
      </label>
      <label>
        <span>Environment</span>
        <select name="target" id="filter-target">
          {[
            ["", "All"],
            ["production", "Production"],
            ["preview", "Preview"],
          ].map(([value, label]) => (
            <option key={value} value={value} selected={filter.target === value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Status</span>
        <select name="status" id="filter-status">
          <option value="" selected={filter.status === ""}>
            All
          </option>
          {STATUS_CHOICES.map(([value, label]) => (
            <option key={value} value={value} selected={filter.status === value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="button" id="filter-button">
        Filter
      </button>
      {(filter.branch !== "" || filter.target !== "" || filter.status !== "") && (
        <a class="button" href={`/projects/${project.id}#deployments-title`}>
          Clear
        </a>
      )}
      {error && (
        <p class="form-error filter-error" id="filter-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

// The project list: each project with its production URL and the status of its latest deployment.
/** @jsxImportSource preact */

import type { Deployment, Project } from "../../src/model/entities.ts";
import type { BuildsStatus } from "../../src/worker/readiness.ts";
import { StatusBadge } from "../components/badge.tsx";
import { BuildsBanner } from "../components/builds-banner.tsx";
import { DropZone } from "../components/drop-zone.tsx";
import { ScopeSwitcher, type Scopes } from "../components/scope-switcher.tsx";
import { CliCard, GitImportCard, type StartInfo } from "../components/start-cards.tsx";
import { Time } from "../components/time.tsx";
import { type Chrome, Layout } from "../layout.tsx";

export interface ProjectSummary {
  project: Project;
  productionUrl: string;
  latest: Deployment | null;
}

export function ProjectsPage(props: {
  chrome: Chrome;
  projects: ProjectSummary[];
  nextCursor: string | null;
  /** Whether this server can build: a banner says why not (null: not known here). */
  builds: BuildsStatus | null;
  start: StartInfo;
  /** Personal scope and the user's teams, and which one is shown. */
  scopes: Scopes;
  /** Said above the list, e.g. that the remembered team is no longer the user's. */
  notice?: string | null;
}) {
  const { chrome, projects, nextCursor, builds, start, scopes, notice } = props;
  const current = scopes.teams.find((t) => t.slug === scopes.current) ?? null;
  // A team's empty scope offers its New project button (the first-deploy cards make personal projects).
  const empty = projects.length === 0 && !nextCursor && !current;
  const teamQuery = current ? `team=${encodeURIComponent(current.slug)}` : "";
  return (
    <Layout chrome={chrome} title="Projects" nav="projects" drop={empty}>
      <div class="page-head">
        <h1>{current ? `Projects · ${current.name}` : "Projects"}</h1>
        {!empty && current?.role !== "viewer" && (
          <a class="button primary" href={`/projects/new${teamQuery ? `?${teamQuery}` : ""}`}>
            New project
          </a>
        )}
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <ScopeSwitcher scopes={scopes} csrf={chrome.csrf} />
      <BuildsBanner builds={builds} />
      {empty ? (
        <FirstDeploy start={start} />
      ) : (
        <>
          {projects.length === 0 && <p class="empty">No projects in this team yet.</p>}
          <ul class="project-grid">
            {projects.map((s) => (
              <ProjectCard key={s.project.id} summary={s} />
            ))}
          </ul>
        </>
      )}
      {nextCursor && (
        <p class="pager">
          <a
            class="button"
            href={`/?cursor=${encodeURIComponent(nextCursor)}${teamQuery ? `&${teamQuery}` : ""}`}
          >
            Older projects
          </a>
        </p>
      )}
    </Layout>
  );
}

/** No projects yet: the three ways to a first deployment, side by side. */
function FirstDeploy({ start }: { start: StartInfo }) {
  return (
    <section class="first-deploy" aria-labelledby="first-title">
      <div class="first-deploy-head">
        <h2 id="first-title">No projects yet: deploy your first site</h2>
        <p class="muted">Three ways in; each ends with a live URL.</p>
      </div>
      <div class="start-grid">
        <GitImportCard />
        <DropZone limits={start.limits} />
        <CliCard serverUrl={start.serverUrl} />
      </div>
    </section>
  );
}

function ProjectCard({ summary }: { summary: ProjectSummary }) {
  const { project, productionUrl, latest } = summary;
  return (
    <li class="card project-card">
      <div class="project-card-head">
        <h2>
          <a class="project-link" href={`/projects/${project.id}`}>
            {project.name}
          </a>
        </h2>
        {latest ? (
          <StatusBadge status={latest.status} deploymentId={latest.id} />
        ) : (
          <span class="muted small">No deployments</span>
        )}
      </div>
      <p class="small">
        {project.productionDeploymentId ? (
          <a href={productionUrl} class="external" target="_blank" rel="noopener noreferrer">
            {productionUrl.replace(/^https?:\/\//, "")}
          </a>
        ) : (
          <span class="muted">{productionUrl.replace(/^https?:\/\//, "")} (not deployed yet)</span>
        )}
      </p>
      {project.gitUrl && <p class="small mono muted truncate">{project.gitUrl}</p>}
      {latest && (
        <p class="small muted">
          Last deployment <Time iso={latest.createdAt} />
          {latest.branch && (
            <>
              {" from "}
              <span class="mono">{latest.branch}</span>
            </>
          )}
        </p>
      )}
    </li>
  );
}

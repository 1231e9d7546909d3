// Project header shared by its pages: name, production URL, repository, and the tabs.
/** @jsxImportSource preact */

import type { Project } from "../../src/model/entities.ts";

export function ProjectHead(props: {
  project: Project;
  productionUrl: string;
  tab: "deployments" | "analytics" | "git" | "settings";
}) {
  const { project, productionUrl, tab } = props;
  const host = (url: string) => url.replace(/^https?:\/\//, "");
  return (
    <div class="project-head">
      <p class="crumbs">
        <a href="/">Projects</a> /
      </p>
      <h1>{project.name}</h1>
      <p class="project-links">
        {project.productionDeploymentId ? (
          <a href={productionUrl} class="external" target="_blank" rel="noopener noreferrer">
            {host(productionUrl)}
          </a>
        ) : (
          <span class="muted">{host(productionUrl)} (not deployed yet)</span>
        )}
        {project.customDomain && <span class="mono">{project.customDomain}</span>}
        {project.gitUrl && <span class="mono muted truncate">{project.gitUrl}</span>}
      </p>
      <nav class="tabs" aria-label="Project">
        <a href={`/projects/${project.id}`} aria-current={tab === "deployments" ? "page" : undefined}>
          Deployments
        </a>
        <a href={`/projects/${project.id}/analytics`} aria-current={tab === "analytics" ? "page" : undefined}>
          Analytics
        </a>
        <a href={`/projects/${project.id}/git`} aria-current={tab === "git" ? "page" : undefined}>
          Git
        </a>
        <a href={`/projects/${project.id}/settings`} aria-current={tab === "settings" ? "page" : undefined}>
          Settings
        </a>
      </nav>
    </div>
  );
}

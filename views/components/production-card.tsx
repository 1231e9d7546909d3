// The top of a project's page: what production serves, from which commit, since when, and on which domains.
/** @jsxImportSource preact */

import type { Deployment, Project } from "../../src/model/entities.ts";
import { deploymentTitle, shortSha } from "../format.ts";
import { PreviewImage, type PreviewView } from "./preview-image.tsx";
import { Time } from "./time.tsx";

export interface ProductionCardProps {
  project: Project;
  /** The deployment production serves (null: nothing yet). */
  production: Deployment | null;
  productionUrl: string;
  /** Its custom domain as a URL (null: none). */
  domainUrl: string | null;
  /** The production commit's page on its git host, or null. */
  commitUrl: string | null;
  /** Production's front page as captured, or why there is no image (null: nothing is live). */
  preview: PreviewView | null;
}

const host = (url: string) => url.replace(/^https?:\/\//, "");

export function ProductionCard(props: ProductionCardProps) {
  const { project, production: d, productionUrl, domainUrl, commitUrl } = props;
  return (
    <section class="card production-card" id="production" aria-labelledby="production-title">
      <h2 id="production-title">Production</h2>
      {d ? (
        <div class="production-body">
          {props.preview && <PreviewImage preview={props.preview} name={project.name} href={productionUrl} />}
          <div class="production-facts">
            <p class="summary-title">
              <a href={`/deployments/${d.id}`}>{deploymentTitle(d)}</a>
            </p>
            <dl class="facts">
              <div>
                <dt>Commit</dt>
                <dd class="mono">
                  {d.commitSha && commitUrl ? (
                    <a href={commitUrl} class="external" target="_blank" rel="noopener noreferrer">
                      {shortSha(d.commitSha)}
                    </a>
                  ) : d.commitSha ? (
                    shortSha(d.commitSha)
                  ) : (
                    "—"
                  )}
                </dd>
              </div>
              <div>
                <dt>Branch</dt>
                <dd class="mono">{d.branch ?? "—"}</dd>
              </div>
              {d.commitAuthor && (
                <div>
                  <dt>Author</dt>
                  <dd>{d.commitAuthor}</dd>
                </div>
              )}
              <div>
                <dt>Live since</dt>
                <dd id="production-since">
                  {project.productionSince ? <Time iso={project.productionSince} /> : "—"}
                </dd>
              </div>
              <div class="wide">
                <dt>Domains</dt>
                <dd>
                  <ul class="aliases" id="production-domains">
                    <li data-state="live">
                      <a href={productionUrl} class="external mono" target="_blank" rel="noopener noreferrer">
                        {host(productionUrl)}
                      </a>
                      <span class="tag tag-current">Live</span>
                    </li>
                    {project.customDomain && domainUrl && (
                      <DomainItem project={project} domainUrl={domainUrl} />
                    )}
                  </ul>
                </dd>
              </div>
            </dl>
          </div>
        </div>
      ) : (
        <p class="empty">
          Nothing is live yet: production will serve the first deployment of{" "}
          <span class="mono">{project.productionBranch}</span> that is ready
          {project.customDomain ? (
            <>
              , at <span class="mono">{host(productionUrl)}</span> and{" "}
              <span class="mono">{project.customDomain}</span>
            </>
          ) : (
            <>
              , at <span class="mono">{host(productionUrl)}</span>
            </>
          )}
          .
        </p>
      )}
    </section>
  );
}

function DomainItem({ project, domainUrl }: { project: Project; domainUrl: string }) {
  const verified = project.customDomainVerifiedAt !== null;
  return (
    <li data-state={verified ? "verified" : "pending"}>
      {verified ? (
        <a href={domainUrl} class="external mono" target="_blank" rel="noopener noreferrer">
          {project.customDomain}
        </a>
      ) : (
        <span class="mono">{project.customDomain}</span>
      )}
      {verified ? (
        <span class="tag tag-current">Verified</span>
      ) : (
        <>
          <span class="tag">DNS check pending</span>
          <a href={`/projects/${project.id}/settings#domains`} class="small">
            Verify
          </a>
        </>
      )}
    </li>
  );
}

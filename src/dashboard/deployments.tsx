// Deployments: the page with its live log (and runtime logs when it has functions), the polled summary and badge
// fragments, the raw log, cancel and redeploy.
/** @jsxImportSource preact */

import { Elysia } from "elysia";
import { StatusBadge } from "../../views/components/badge.tsx";
import { isErrorLine, logText, STATUS_LABEL } from "../../views/format.ts";
import {
  type Alias,
  DeploymentPage,
  type DeploymentProps,
  DeploymentSummary,
  type ErrorLine,
} from "../../views/pages/deployment.tsx";
import { PromotePage } from "../../views/pages/promote.tsx";
import { Id } from "../api/schemas.ts";
import { getDeployment, getProject, type Right } from "../deploy/access.ts";
import type { Auditor } from "../deploy/audit.ts";
import { cancelDeployment, queueDeployment } from "../deploy/deploy.ts";
import { promoteDeployment } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import { commitUrl } from "../model/commit-links.ts";
import type { Deployment, Project, User } from "../model/entities.ts";
import { APP_DEFAULTS } from "../model/settings.ts";
import {
  branchHostSlug,
  branchUrl,
  customDomainUrl,
  deploymentHostId,
  deploymentUrl,
  productionUrl,
} from "../model/urls.ts";
import { previewOf } from "../preview/previews.ts";
import { type AppServers, unseenAppServers } from "../runtime/app-status.ts";
import { chromeFor } from "./assets.ts";
import { errorStatus, formErrors } from "./forms.ts";
import { previewView } from "./preview.ts";
import { html, redirect, securityHeaders } from "./respond.ts";
import { functionPaths, parseRuntimeFilter, RuntimeQuery, runtimeView } from "./runtime-logs.tsx";
import { requireSession } from "./session.ts";

const LOG_PAGE = 1000;

/** The project page after production moved: it shows the result card with an Undo (see promotedCard). */
export const promotedPath = (project: Project): string => {
  const query = new URLSearchParams({ promoted: project.productionDeploymentId ?? "" });
  if (project.previousProductionDeploymentId) query.set("from", project.previousProductionDeploymentId);
  return `/projects/${project.id}?${query}`;
};
/** How many of a failed build's error lines its summary shows (the last ones: the cause is usually near the end). */
const ERROR_LINES = 5;

export function deploymentRoutes(
  {
    config,
    store,
    logs,
    runtimeLogs,
    artifacts,
    live,
    bus,
    metrics,
    audit,
  }: Pick<Deps, "config" | "store" | "logs" | "runtimeLogs" | "artifacts" | "live" | "bus" | "metrics"> & {
    audit: Auditor;
  },
  /** The app servers as this process sees them (see DashboardOptions.apps). */
  apps: AppServers = unseenAppServers,
) {
  const state = { store, live, bus, metrics };
  const own = async (user: User, id: string, need: Right = "read") =>
    (await getDeployment(store, user.id, id, need)).deployment;

  const props = async (
    user: User,
    csrf: string,
    id: string,
    error: string | null = null,
  ): Promise<DeploymentProps> => {
    const deployment = await own(user, id);
    const project = await getProject(store, user.id, deployment.projectId, "read");
    const [aliases, errorLines] = await Promise.all([
      deploymentAliases(project, deployment),
      deployment.status === "FAIL" ? failureLines(deployment.id) : Promise.resolve([]),
    ]);
    return {
      chrome: chromeFor(user, csrf),
      project,
      deployment,
      url: deploymentUrl(project, deployment.id, config),
      productionUrl: productionUrl(project, config),
      aliases,
      commitUrl: commitUrl(project.gitUrl, deployment.commitSha),
      preview: await previewView(config, artifacts, deployment),
      errorLines,
      now: new Date(),
      error,
    };
  };

  /** Every URL that serves this deployment now: its own, its branch's (while newest), production, the domain. */
  const deploymentAliases = async (project: Project, d: Deployment): Promise<Alias[]> => {
    if (d.status !== "READY" || d.expiredAt !== null) return [];
    const aliases: Alias[] = [{ kind: "deployment", url: deploymentUrl(project, d.id, config) }];
    if (d.branch !== null) {
      const { slug, truncated } = branchHostSlug(project.subDomain, d.branch);
      const latest = await store.deployments.latestForBranch(project.id, slug, truncated);
      if (latest?.id === d.id) aliases.push({ kind: "branch", url: branchUrl(project, d.branch, config) });
    }
    if (project.productionDeploymentId === d.id) {
      aliases.push({ kind: "production", url: productionUrl(project, config) });
      if (project.customDomain)
        aliases.push({
          kind: "domain",
          url: customDomainUrl(project.customDomain, config),
          pending: project.customDomainVerifiedAt === null,
        });
    }
    return aliases;
  };

  /** The lines of a failed build's log that report errors (the last few), for its summary. */
  const failureLines = async (deploymentId: string): Promise<ErrorLine[]> => {
    const found: ErrorLine[] = [];
    let after = 0;
    for (;;) {
      const lines = await logs.read(deploymentId, after, LOG_PAGE);
      for (const line of lines) {
        if (!isErrorLine(line.text)) continue;
        found.push({ seq: line.seq, text: logText(line.text).slice(0, 500) });
        if (found.length > ERROR_LINES) found.shift();
      }
      const last = lines[lines.length - 1];
      if (!last || lines.length < LOG_PAGE) return found;
      after = last.seq;
    }
  };

  /** Runs an action on a deployment; a refusal (e.g. already finished) is shown in its summary. */
  const act = async (
    user: User,
    csrf: string,
    id: string,
    request: Request,
    action: () => Promise<string>,
  ) => {
    try {
      return redirect(request, await action());
    } catch (error) {
      const errors = formErrors(error, {});
      if (!errors) throw error;
      return html(
        <DeploymentPage {...(await props(user, csrf, id, errors._form ?? null))} />,
        errorStatus(error),
      );
    }
  };

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/deployments/:id",
      async ({ user, csrf, params, query }) => {
        const page = await props(user, csrf, params.id);
        // Runtime logs only for a deployment with functions; the filter also works without JavaScript.
        const functions = await functionPaths(artifacts, page.deployment.id);
        const manifest = await artifacts.getManifest(page.deployment.id);
        if (manifest?.server) {
          const { visible, ...running } = await apps.status(page.deployment.id);
          page.app = {
            deploymentId: page.deployment.id,
            csrf,
            command: manifest.server.command,
            detected: manifest.server.detected,
            running: visible ? running : null,
            idleMinutes: page.project.idleTimeoutMinutes ?? APP_DEFAULTS.idleTimeoutMinutes,
            maxInstances: page.project.maxInstances ?? APP_DEFAULTS.maxInstances,
          };
        }
        if (functions.length > 0) {
          const filter = parseRuntimeFilter(query);
          const view = await runtimeView(runtimeLogs, page.deployment.id, filter, query);
          page.runtime = { deploymentId: page.deployment.id, functions, filter, view };
        }
        return html(<DeploymentPage {...page} />);
      },
      { params: Id, query: RuntimeQuery },
    )
    .get(
      "/deployments/:id/summary",
      async ({ user, csrf, params }) => html(<DeploymentSummary {...(await props(user, csrf, params.id))} />),
      {
        params: Id,
      },
    )
    .get(
      "/deployments/:id/badge",
      async ({ user, params }) => {
        const d = await own(user, params.id);
        return html(<StatusBadge status={d.status} deploymentId={d.id} />);
      },
      { params: Id },
    )
    .get(
      "/deployments/:id/log.txt",
      async ({ user, params }) => {
        const deployment = await own(user, params.id);
        const project = await getProject(store, user.id, deployment.projectId, "read");
        let after = 0;
        const encoder = new TextEncoder();
        // Paged from the log store as the client reads, so a long log is never held in memory.
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const lines = await logs.read(deployment.id, after, LOG_PAGE);
            if (lines.length > 0)
              controller.enqueue(encoder.encode(lines.map((l) => `${l.text}\n`).join("")));
            const last = lines[lines.length - 1];
            if (!last || lines.length < LOG_PAGE) controller.close();
            else after = last.seq;
          },
        });
        const filename = `${project.subDomain}-${deploymentHostId(deployment.id)}.log`;
        return new Response(body, {
          headers: securityHeaders({
            "content-type": "text/plain; charset=utf-8",
            "content-disposition": `attachment; filename="${filename}"`,
            "cache-control": "no-store",
          }),
        });
      },
      { params: Id },
    )
    .get(
      "/deployments/:id/preview.png",
      async ({ user, params }) => {
        // Only those who see the project (any role): the image shows a page that may be behind deployment protection.
        const deployment = await own(user, params.id);
        const stored = await previewOf(artifacts, deployment.id);
        const blob = stored ? await artifacts.getBlob(stored.hash) : null;
        if (!stored || !blob) throw notFound("preview image");
        return new Response(blob, {
          headers: securityHeaders({
            "content-type": "image/png",
            "cache-control": "private, max-age=86400",
            etag: `"${stored.hash}"`,
          }),
        });
      },
      { params: Id },
    )
    .post(
      "/deployments/:id/cancel",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.id, request, async () => {
          // The same function (and live notification) as the API's POST /api/deployments/:id/cancel.
          const canceled = await cancelDeployment(state, user.id, params.id);
          await audit.project(
            request,
            user,
            canceled.projectId,
            "deployment.cancel",
            `deployment ${canceled.id}`,
          );
          return `/deployments/${canceled.id}`;
        }),
      { params: Id },
    )
    .post(
      "/deployments/:id/redeploy",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.id, request, async () => {
          const d = await own(user, params.id, "write");
          const next = await queueDeployment(state, user.id, {
            projectId: d.projectId,
            branch: d.branch ?? undefined,
            commitSha: d.commitSha ?? undefined,
          });
          await audit.project(
            request,
            user,
            next.projectId,
            "deployment.create",
            `${next.target} ${next.id} (redeploy)`,
          );
          return `/deployments/${next.id}`;
        }),
      { params: Id },
    )
    .get(
      "/deployments/:id/promote",
      async ({ user, csrf, params }) => {
        // The confirmation: what production will serve, instead of what. One that cannot be confirmed (any more:
        // the Back button after a promote) says why, as a page, not an error.
        const target = await own(user, params.id, "write");
        const project = await getProject(store, user.id, target.projectId, "write");
        const current = project.productionDeploymentId
          ? await store.deployments.get(user.id, project.productionDeploymentId)
          : null;
        const problem =
          target.status !== "READY"
            ? `Only a READY deployment can serve production (this one is ${STATUS_LABEL[target.status].toLowerCase()}).`
            : target.expiredAt !== null
              ? "This preview expired: its files were deleted. Redeploy it instead."
              : current?.id === target.id
                ? "Production already serves this deployment."
                : null;
        return html(
          <PromotePage
            chrome={chromeFor(user, csrf)}
            project={project}
            target={target}
            current={current}
            problem={problem}
          />,
        );
      },
      { params: Id },
    )
    .post(
      "/deployments/:id/restart",
      async ({ user, params, request }) => {
        // Members and up: anyone else gets the same 404 (or 403 for a viewer) as the API's restart.
        const deployment = await own(user, params.id, "write");
        await apps.restart(params.id);
        await audit.project(request, user, deployment.projectId, "app.restart", `deployment ${params.id}`);
        return redirect(request, `/deployments/${params.id}#app-server`);
      },
      { params: Id },
    )
    .post(
      "/deployments/:id/promote",
      ({ user, csrf, params, request }) =>
        act(user, csrf, params.id, request, async () => {
          // The same pointer swap as the API's POST /api/deployments/:id/promote; the project page then says what
          // production serves now and offers the way back.
          const project = await promoteDeployment(store, bus, user.id, params.id);
          await audit.project(request, user, project, "deployment.promote", `deployment ${params.id}`);
          return promotedPath(project);
        }),
      { params: Id },
    );
}

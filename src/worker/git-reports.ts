// Commit statuses and pull-request comments, the dispatcher (worker role): the shared outbox loop (outbox.ts:
// leases, backoff, 6 attempts, pruning) over the store's reports, each sent to the project's git provider as the
// deployment stands at send time. A provider's 4xx refusal (but 408 and 429) is final; a Retry-After is honoured.
// Nothing here can fail or delay a deployment: the outbox is all the build path touches.

import type { Config } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import { repositoryPath } from "../deploy/git-provider.ts";
import { hookUrlProblem } from "../deploy/hooks.ts";
import type { Deployment, Project } from "../model/entities.ts";
import { branchUrl, deploymentUrl } from "../model/urls.ts";
import type { Logger } from "../observe/log.ts";
import type { GitReport } from "../store/git-reports.ts";
import type { Store } from "../store/store.ts";
import {
  openRequestsFor,
  ProviderError,
  type ProviderTarget,
  setCommitStatus,
  upsertComment,
} from "./git-provider-api.ts";
import { dispatchOutbox, type OutboxUse, startOutboxLoop } from "./outbox.ts";

const GONE = "the provider setting or the deployment is gone";

export type ReportDeps = {
  store: Store;
  sealer: Sealer;
  log: Logger;
  config: Pick<Config, "outgoingHooks" | "sitesDomain" | "proxyPort" | "https" | "protection">;
};

/** The hidden line that marks our comment on a pull request, one per project. */
export const commentMarker = (projectId: string) => `<!-- minivercel:preview project=${projectId} -->`;

const logUrl = (deps: ReportDeps, d: Deployment) =>
  `${deps.config.protection.dashboardUrl}/deployments/${d.id}`;

function describe(d: Deployment, report: GitReport): string {
  switch (report.state) {
    case "pending":
      return "Deployment queued";
    case "running":
      return "Building";
    case "success":
      return "Deployment ready";
    case "failure":
      return `Deployment failed${d.statusReason ? `: ${d.statusReason}` : ""}`;
    case "canceled":
      return `Deployment canceled${d.statusReason ? `: ${d.statusReason}` : ""}`;
  }
}

function commentBody(deps: ReportDeps, project: Project, d: Deployment, report: GitReport): string {
  const ready = report.state === "success";
  const short = (d.commitSha ?? "").slice(0, 7);
  const lines = [
    commentMarker(project.id),
    `**minivercel** · ${project.name}: ${ready ? "✅ preview ready" : "❌ deployment failed"} for \`${short}\``,
    "",
  ];
  if (ready) {
    lines.push(`Preview: ${branchUrl(project, report.subject, deps.config)}`);
    lines.push(`This commit: ${deploymentUrl(project, d.id, deps.config)}`);
  } else lines.push(`Build log: ${logUrl(deps, d)}`);
  lines.push("", `<sub>Updated on every push to \`${report.subject}\`.</sub>`);
  return lines.join("\n");
}

/** Sends one report once; throws what went wrong. */
async function send(deps: ReportDeps, report: GitReport): Promise<void> {
  const setting = await deps.store.gitReports.provider(report.projectId);
  const project = await deps.store.projects.find(report.projectId);
  const deployment = await deps.store.deployments.find(report.deploymentId);
  // Nothing to retry for: the setting was removed (with its reports) or the deployment deleted meanwhile.
  if (!setting || !project || !deployment) throw new Error(GONE);
  const repository = repositoryPath(setting.kind, setting.repository, project.gitUrl);
  if (!repository) throw new Error("no repository to report to");
  // Again at send time: the API host may resolve to the platform's own network by now.
  const problem = await hookUrlProblem(setting.apiUrl, deps.config.outgoingHooks.allowPrivate);
  if (problem) throw new Error(problem);
  const target: ProviderTarget = {
    kind: setting.kind,
    apiUrl: setting.apiUrl,
    repository,
    token: await deps.sealer.open(setting.tokenSealed),
    allowPrivate: deps.config.outgoingHooks.allowPrivate,
  };
  if (report.kind === "status") {
    await setCommitStatus(target, report.subject, {
      state: report.state,
      targetUrl:
        report.state === "success"
          ? deploymentUrl(project, deployment.id, deps.config)
          : logUrl(deps, deployment),
      description: describe(deployment, report),
      context: `minivercel/${project.subDomain}`,
    });
    return;
  }
  const body = commentBody(deps, project, deployment, report);
  for (const n of await openRequestsFor(target, report.subject)) {
    await upsertComment(target, n, commentMarker(project.id), body);
  }
}

/** The reports as an outbox: the last error is kept on the report; a report whose setting is gone fails at once. */
function reports(deps: ReportDeps): OutboxUse<GitReport, string | null> {
  const store = deps.store.gitReports;
  return {
    name: "git provider reports",
    holder: "reports",
    claimDue: (holder, now, until, limit) => store.claimDue(holder, now, until, limit),
    async attempt(report) {
      try {
        await send(deps, report);
        return { result: null, ok: true };
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        // A refusal that sending again cannot change (bad token, no such repository): failed now, said so.
        if (e instanceof ProviderError && e.permanent)
          return { result: `not retried: ${message}`.slice(0, 500), ok: false, final: true };
        const error = message.slice(0, 500);
        return {
          result: error,
          ok: false,
          final: error === GONE,
          retryAfterMs: e instanceof ProviderError ? e.retryAfterMs : null,
        };
      }
    },
    settle: (report, holder, { result }, outcome) =>
      store.finish(report.id, holder, report.version, outcome, result, new Date().toISOString()),
    failure: (report, error) => [
      "git provider report failed",
      { project: report.projectId, kind: report.kind, error },
    ],
    prune: (before) => store.prune(before),
  };
}

/** Claims and sends the reports due now; returns how many it tried. */
export function dispatchReports(deps: ReportDeps, holder: string): Promise<number> {
  return dispatchOutbox(deps, reports(deps), holder);
}

/** Polls the outbox every `pollMs` until stopped; stop waits for the sends under way. */
export function startReportDispatcher(deps: ReportDeps, pollMs = 500): { stop(): Promise<void> } {
  return startOutboxLoop(deps, reports(deps), pollMs);
}

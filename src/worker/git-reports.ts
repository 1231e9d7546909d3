// Commit statuses and pull-request comments, the dispatcher (worker role): claims due reports from the store's
// outbox under a lease (one worker per report however many run), sends each to the project's git provider as
// the deployment stands at send time, and retries failures with the outgoing webhooks' backoff (6 attempts; a
// provider's 4xx refusal, but 408 and 429, is final; a Retry-After is honoured).
// Nothing here can fail or delay a deployment: the outbox is all the build path touches.

import type { Config } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import { repositoryPath } from "../deploy/git-provider.ts";
import { hookUrlProblem } from "../deploy/hooks.ts";
import type { Deployment, Project } from "../model/entities.ts";
import { branchUrl, deploymentUrl } from "../model/urls.ts";
import type { Logger } from "../observe/log.ts";
import type { GitReport, ReportOutcome } from "../store/git-reports.ts";
import type { Store } from "../store/store.ts";
import {
  openRequestsFor,
  ProviderError,
  type ProviderTarget,
  setCommitStatus,
  upsertComment,
} from "./git-provider-api.ts";
import { backoffMs, LOG_RETENTION_MS, MAX_ATTEMPTS } from "./outgoing.ts";

const LEASE_MS = 60_000;
const BATCH = 20;
const PRUNE_EVERY_MS = 3_600_000;
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

/**
 * What an attempt's failure (null: it was sent) means for the report: a provider's permanent refusal (a 4xx but
 * 408 and 429) fails it now with the provider's message; anything else is retried with the backoff, or later when
 * the provider's Retry-After asks for more, until the last attempt.
 */
export function outcomeOf(
  failure: unknown,
  made: number,
  retryBaseMs: number,
): { outcome: ReportOutcome; error: string | null } {
  if (failure === null) return { outcome: { kind: "delivered" }, error: null };
  const message = failure instanceof Error ? failure.message : String(failure);
  if (failure instanceof ProviderError && failure.permanent) {
    return { outcome: { kind: "failed" }, error: `not retried: ${message}`.slice(0, 500) };
  }
  const error = message.slice(0, 500);
  if (made >= MAX_ATTEMPTS || message === GONE) return { outcome: { kind: "failed" }, error };
  const waitMs = Math.max(
    backoffMs(retryBaseMs, made),
    failure instanceof ProviderError ? (failure.retryAfterMs ?? 0) : 0,
  );
  return { outcome: { kind: "retry", at: new Date(Date.now() + waitMs).toISOString() }, error };
}

/** Claims and sends what is due now; returns how many reports it tried. */
export async function dispatchReports(deps: ReportDeps, holder: string): Promise<number> {
  const now = Date.now();
  const claimed = await deps.store.gitReports.claimDue(
    holder,
    new Date(now).toISOString(),
    new Date(now + LEASE_MS).toISOString(),
    BATCH,
  );
  await Promise.all(
    claimed.map(async (report) => {
      let failure: unknown = null;
      try {
        await send(deps, report);
      } catch (e) {
        failure = e;
      }
      const made = report.attempts + 1;
      const { outcome, error } = outcomeOf(failure, made, deps.config.outgoingHooks.retryBaseMs);
      const at = new Date().toISOString();
      await deps.store.gitReports.finish(report.id, holder, report.version, outcome, error, at);
      if (error !== null)
        deps.log.warn("git provider report failed", {
          project: report.projectId,
          kind: report.kind,
          attempt: made,
          error,
          outcome: outcome.kind,
        });
    }),
  );
  return claimed.length;
}

/** Polls the outbox every `pollMs` until stopped, pruning finished reports older than 30 days every hour. */
export function startReportDispatcher(deps: ReportDeps, pollMs = 500): { stop(): Promise<void> } {
  const holder = `reports-${crypto.randomUUID()}`;
  let stopped = false;
  let wake: (() => void) | null = null;
  let pruned = 0;
  const loop = (async () => {
    while (!stopped) {
      try {
        if (Date.now() - pruned > PRUNE_EVERY_MS) {
          pruned = Date.now();
          await deps.store.gitReports.prune(new Date(pruned - LOG_RETENTION_MS).toISOString());
        }
        if ((await dispatchReports(deps, holder)) >= BATCH) continue;
      } catch (error) {
        deps.log.error("git provider reports: dispatch failed", { error: String(error) });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

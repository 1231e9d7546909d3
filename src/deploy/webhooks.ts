// Git webhooks, step two: a project's webhook secret, and a verified delivery turned into deployments.

import { createHash } from "node:crypto";
import type { Deps } from "../deps.ts";
import { AppError, notFound, unauthorized } from "../errors.ts";
import type { Deployment, Project } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";
import type { Auditor } from "./audit.ts";
import { queueDeployment } from "./deploy.ts";
import type { Sealer } from "./env.ts";
import { changeStatus } from "./state.ts";
import {
  deliveryOf,
  type GitEvent,
  gitEventOf,
  namesRepository,
  type Provider,
  repositoryUrlsOf,
  senderOf,
  verifyDelivery,
} from "./webhook-events.ts";

/** Providers cap their payloads well below this; a larger body is refused unread beyond it. */
export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** The owner's view of a project's webhook secret, made on first request (sealed at rest, like env values). */
export async function webhookSecret(
  { store, sealer }: { store: Store; sealer: Sealer },
  userId: string,
  projectId: string,
): Promise<string> {
  const project = await getProject(store, userId, projectId, "admin");
  const existing = await store.webhooks.secret(project.id);
  if (existing !== null) return sealer.open(existing);
  const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  // Two first requests at once: both get the secret that was stored first.
  return sealer.open(await store.webhooks.initSecret(project.id, await sealer.seal(fresh)));
}

export type WebhookResult =
  | { status: 200; body: { ok: true; ignored?: string; duplicate?: true } }
  | { status: 202; body: { ok: true; deploymentIds: string[]; expiredDeploymentIds: string[] } };

type HookDeps = Pick<Deps, "store" | "sealer" | "artifacts" | "bus" | "live" | "metrics"> & {
  audit: Pick<Auditor, "delivery">;
};

/** How many deliveries a project's Git page lists (older notes are dropped as new ones come). */
export const WEBHOOK_LOG_KEEP = 20;

/**
 * Handles one delivery: verifies it against the project's secret before reading it, ignores a delivery whose id or
 * body this project saw before, then deploys (as the project's owner) or retires a closed pull request's previews.
 * Every delivery that reaches a project with a secret is noted for its Git page, with what it triggered; what it
 * deployed or retired goes to the scope's audit log too (the request gives its client address).
 */
export async function receiveWebhook(
  deps: HookDeps,
  provider: Provider,
  projectId: string,
  request: Request,
  body: Uint8Array,
): Promise<WebhookResult> {
  const { store } = deps;
  const headers = request.headers;
  const project = await store.projects.find(projectId);
  const sealed = project ? await store.webhooks.secret(project.id) : null;
  if (!project || sealed === null) throw notFound("webhook");
  const event = deliveryOf(provider, headers).event?.slice(0, 100) ?? null;
  const note = (status: number, outcome: string, deploymentIds: string[] = []) =>
    store.webhooks.logDelivery(
      project.id,
      { provider, event, status, outcome: outcome.slice(0, 500), deploymentIds },
      WEBHOOK_LOG_KEEP,
    );
  try {
    const result = await handle(deps, provider, project, sealed, request, body);
    await note(
      result.status,
      describeResult(result),
      "deploymentIds" in result.body ? result.body.deploymentIds : [],
    );
    return result;
  } catch (error) {
    await note(
      error instanceof AppError ? error.status : 500,
      `refused: ${error instanceof AppError ? error.message : "internal error"}`,
    );
    throw error;
  }
}

/** A delivery's result in words, for the Git page. */
function describeResult(result: WebhookResult): string {
  if (result.status === 202) {
    const { deploymentIds, expiredDeploymentIds } = result.body;
    if (deploymentIds.length > 0)
      return `deployed (${deploymentIds.length} deployment${deploymentIds.length === 1 ? "" : "s"})`;
    return `pull request closed: ${expiredDeploymentIds.length} preview${expiredDeploymentIds.length === 1 ? "" : "s"} retired`;
  }
  if (result.body.duplicate) return "duplicate: handled before";
  if (result.body.ignored) return `ignored: ${result.body.ignored}`;
  return "ping";
}

async function handle(
  deps: HookDeps,
  provider: Provider,
  project: Project,
  sealed: string,
  request: Request,
  body: Uint8Array,
): Promise<WebhookResult> {
  const { store, sealer } = deps;
  const headers = request.headers;
  if (!verifyDelivery(provider, headers, body, await sealer.open(sealed))) {
    throw unauthorized("webhook signature or token does not match this project's secret");
  }
  const { event, deliveryId } = deliveryOf(provider, headers);
  const gitEvent = gitEventOf(provider, event, body);
  if (gitEvent === null) throw new AppError("bad_request", "webhook body is not JSON");
  if (gitEvent.kind === "ping") return { status: 200, body: { ok: true } };
  if (gitEvent.kind === "ignored") return { status: 200, body: { ok: true, ignored: gitEvent.reason } };
  // The secret proves the sender, not the repository: a hook added to another repository (a fork, a copy) with
  // the same secret must not build that repository's commits as this project.
  if (project.gitUrl !== null && !namesRepository(project.gitUrl, repositoryUrlsOf(provider, body))) {
    return {
      status: 200,
      body: { ok: true, ignored: `the delivery is not for this project's repository (${project.gitUrl})` },
    };
  }

  // Providers redeliver (retries, manual redelivery): the same id acts once. The signature covers the body and
  // not the id, so whoever captured a delivery could resend it under fresh ids: the same body acts once too
  // (and covers old GitLab, which sends no id).
  const delivery = {
    id: deliveryId === null ? null : deliveryId.slice(0, 200),
    bodySha256: createHash("sha256").update(body).digest("hex"),
  };
  if (!(await store.webhooks.recordDelivery(project.id, delivery))) {
    return { status: 200, body: { ok: true, duplicate: true } };
  }
  let result: WebhookResult;
  try {
    result = await act(deps, project, gitEvent);
  } catch (error) {
    // A failed delivery (e.g. the project has no git URL yet) is handled when it is delivered again.
    await store.webhooks.forgetDelivery(project.id, delivery);
    throw error;
  }
  // After the delivery is settled: what it did is done, and a redelivery must not do it twice.
  const sender = `${provider} webhook (${senderOf(provider, body) ?? "unnamed sender"})`;
  await auditDelivery(deps, request, project, gitEvent, result, sender);
  return result;
}

async function act(
  deps: HookDeps,
  project: Project,
  event: Extract<GitEvent, { kind: "deploy" | "close" }>,
): Promise<WebhookResult> {
  if (event.kind === "deploy") {
    const deployment = await queueDeployment(deps, project.userId, {
      projectId: project.id,
      branch: event.branch,
      commitSha: event.commitSha.toLowerCase(),
    });
    return { status: 202, body: { ok: true, deploymentIds: [deployment.id], expiredDeploymentIds: [] } };
  }
  if (event.branch === project.productionBranch) {
    return { status: 200, body: { ok: true, ignored: "the production branch keeps serving" } };
  }
  const expired = await retireBranch(deps, project, event.branch);
  return { status: 202, body: { ok: true, deploymentIds: [], expiredDeploymentIds: expired } };
}

/** A delivery that deployed or retired previews, in the project's scope's audit log (none when nothing changed). */
async function auditDelivery(
  deps: HookDeps,
  request: Request,
  project: Project,
  event: Extract<GitEvent, { kind: "deploy" | "close" }>,
  result: WebhookResult,
  actor: string,
): Promise<void> {
  if (result.status !== 202) return;
  const { deploymentIds, expiredDeploymentIds } = result.body;
  if (event.kind === "deploy") {
    const what = `${event.branch} ${event.commitSha.slice(0, 7).toLowerCase()}`;
    await deps.audit.delivery(
      request,
      project,
      "deployment.create",
      `${actor}: ${what} (deployment ${deploymentIds.join(", ")})`,
    );
  } else if (expiredDeploymentIds.length > 0) {
    const what = `${event.branch} closed, ${expiredDeploymentIds.length} preview${expiredDeploymentIds.length === 1 ? "" : "s"} retired`;
    await deps.audit.delivery(request, project, "deployment.expire", `${actor}: ${what}`);
  }
}

/** A closed pull request's branch: its waiting builds are canceled, its previews expired and no longer served. */
async function retireBranch(deps: HookDeps, project: Project, branch: string): Promise<string[]> {
  const { store, artifacts, bus } = deps;
  const ofBranch: Deployment[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Store["deployments"]["ofProject"]>> = await store.deployments.ofProject(
      project.id,
      { limit: 100, cursor },
    );
    ofBranch.push(...page.items.filter((d) => d.branch === branch && d.target === "preview"));
    cursor = page.nextCursor;
  } while (cursor);

  const expired: string[] = [];
  for (const d of ofBranch) {
    if (d.status === "QUEUED" || d.status === "IN_PROGRESS") {
      await changeStatus(deps, d.id, "CANCELED", "pull request closed");
    }
    // expire() refuses a deployment someone promoted to production meanwhile: that one keeps serving.
    if (d.expiredAt === null && (await store.deployments.expire(d.id))) {
      // The row first, as the collector does: a crash leaves an expired row, never served files without one.
      await artifacts.deleteManifest(d.id);
      expired.push(d.id);
    }
  }
  // Proxies cache branch lookups: they reload the project's routes now.
  if (expired.length > 0) await announceRoutes(bus, project.id);
  return expired;
}

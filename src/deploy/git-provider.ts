// Commit statuses and pull-request comments, the owner's side and the queueing: a project's provider setting
// (GitHub, GitLab or Gitea; its token sealed like env vars, shown back only as a hint), and, on every status change
// of a deployment with a commit, the reports to send, queued in the store's outbox (src/worker/git-reports.ts
// sends them). Queueing never fails a deployment: a store error here is logged and dropped.

import type { OutgoingHooksConfig } from "../config/config.ts";
import { invalid, notFound } from "../errors.ts";
import type { Deployment } from "../model/entities.ts";
import type { DeploymentStatus } from "../model/status.ts";
import type { GitProviderKind, GitProviderSetting, ReportState } from "../store/git-reports.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import type { Sealer } from "./env.ts";
import { hookUrlProblem } from "./hooks.ts";
import { repositoryKey } from "./webhook-events.ts";

/** The public services' API bases; Gitea has none (it is always self-hosted). */
export const DEFAULT_API_URLS: Record<GitProviderKind, string | null> = {
  github: "https://api.github.com",
  gitlab: "https://gitlab.com/api/v4",
  gitea: null,
};

/** The owner's view: never the token, only its last 4 characters. */
export interface GitProviderView {
  kind: GitProviderKind;
  apiUrl: string;
  repository: string | null;
  tokenHint: string;
  updatedAt: string;
}

export const providerView = (s: GitProviderSetting): GitProviderView => ({
  kind: s.kind,
  apiUrl: s.apiUrl,
  repository: s.repository,
  tokenHint: `…${s.tokenHint}`,
  updatedAt: s.updatedAt,
});

export type ProviderDeps = { store: Store; sealer: Sealer; config: { outgoingHooks: OutgoingHooksConfig } };

const REPOSITORY = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

/**
 * The repository path the provider's API names (owner/name; GitLab: group/subgroup/name): the setting's, else
 * read from the project's git URL; null when neither names one.
 */
export function repositoryPath(kind: GitProviderKind, repository: string | null, gitUrl: string | null) {
  if (repository) return repository;
  const key = gitUrl ? repositoryKey(gitUrl) : null;
  if (!key) return null;
  const parts = key.split("/").slice(1);
  // GitHub and Gitea repositories are owner/name (a Gitea served under a sub-path has more before them).
  const path = kind === "gitlab" ? parts : parts.slice(-2);
  return path.length >= 2 ? path.join("/") : null;
}

export async function setGitProvider(
  deps: ProviderDeps,
  userId: string,
  projectId: string,
  input: { kind: GitProviderKind; token: string; apiUrl?: string | null; repository?: string | null },
): Promise<GitProviderView> {
  const project = await getProject(deps.store, userId, projectId, "admin");
  const token = input.token.trim();
  if (token.length < 8 || /\s/.test(token)) throw invalid("token must be a provider access token", "token");
  const apiUrl = (input.apiUrl?.trim() || DEFAULT_API_URLS[input.kind] || "").replace(/\/+$/, "");
  if (!apiUrl)
    throw invalid("apiUrl is required for Gitea (e.g. https://gitea.example.com/api/v1)", "apiUrl");
  // The token goes to this address on every report: never to the platform's own network unless allowed.
  const problem = await hookUrlProblem(apiUrl, deps.config.outgoingHooks.allowPrivate);
  if (problem) throw invalid(problem.replace(/^url/, "apiUrl"), "apiUrl");
  const repository = input.repository?.trim() || null;
  if (repository !== null && !REPOSITORY.test(repository)) {
    throw invalid("repository must be owner/name (GitLab: group/name)", "repository");
  }
  if (repositoryPath(input.kind, repository, project.gitUrl) === null) {
    throw invalid("the project's git URL names no repository: give repository as owner/name", "repository");
  }
  const saved = await deps.store.gitReports.setProvider({
    projectId: project.id,
    kind: input.kind,
    apiUrl,
    repository,
    tokenSealed: await deps.sealer.seal(token),
    tokenHint: token.slice(-4),
  });
  return providerView(saved);
}

export async function showGitProvider(store: Store, userId: string, projectId: string) {
  const project = await getProject(store, userId, projectId, "admin");
  const setting = await store.gitReports.provider(project.id);
  return {
    project,
    provider: setting ? providerView(setting) : null,
    reports: setting ? await store.gitReports.list(project.id, 20) : [],
  };
}

export async function removeGitProvider(store: Store, userId: string, projectId: string): Promise<void> {
  const project = await getProject(store, userId, projectId, "admin");
  if (!(await store.gitReports.deleteProvider(project.id))) throw notFound("git provider");
}

const STATES: Partial<Record<DeploymentStatus, ReportState>> = {
  QUEUED: "pending",
  IN_PROGRESS: "running",
  READY: "success",
  FAIL: "failure",
  CANCELED: "canceled",
};

/**
 * Queues the reports `deployment`'s status calls for: its commit's status, and for a preview branch that ended,
 * the branch's pull-request comment. Nothing for a deployment without a commit or a project without a provider.
 */
export async function reportDeployment(store: Store, deployment: Deployment): Promise<void> {
  try {
    const state = STATES[deployment.status];
    if (!state || !deployment.commitSha) return;
    if (!(await store.gitReports.provider(deployment.projectId))) return;
    const now = new Date().toISOString();
    const base = {
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      deploymentCreatedAt: deployment.createdAt,
      state,
      now,
    };
    await store.gitReports.upsert({ ...base, kind: "status", subject: deployment.commitSha });
    const ended = state === "success" || state === "failure";
    if (ended && deployment.branch && deployment.target === "preview") {
      await store.gitReports.upsert({ ...base, kind: "comment", subject: deployment.branch });
    }
  } catch (error) {
    // The deployment goes on regardless; the next status change queues the latest state again.
    console.error("git provider: could not queue a commit report", String(error));
  }
}

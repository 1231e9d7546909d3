// Commit statuses and pull-request comments, store port: a project's git provider setting (its token sealed) and
// the outbox of reports, one row per commit status or branch comment, claimed under a lease by one worker at a
// time (src/worker/git-reports.ts) through the shared outbox (outbox.ts). Callers check ownership first; the
// dispatcher reads unscoped.

import type { OutboxFields, OutboxOutcome } from "./outbox.ts";

export type GitProviderKind = "github" | "gitlab" | "gitea";
export const GIT_PROVIDER_KINDS: readonly GitProviderKind[] = ["github", "gitlab", "gitea"];

/** A project's provider setting as stored (the token sealed; only its hint is ever shown). */
export interface GitProviderSetting {
  projectId: string;
  kind: GitProviderKind;
  /** The provider's REST API base, e.g. https://api.github.com or https://gitlab.com/api/v4. */
  apiUrl: string;
  /** owner/name (GitLab: the full project path); null: read from the project's git URL. */
  repository: string | null;
  tokenSealed: string;
  tokenHint: string;
  updatedAt: string;
}

/** What a report says, in the platform's words (each provider's client maps it to its own states). */
export type ReportState = "pending" | "running" | "success" | "failure" | "canceled";
/** status: a commit's status (subject: the sha); comment: a branch's pull-request comment (subject: the branch). */
export type ReportKind = "status" | "comment";

export interface GitReport extends OutboxFields {
  projectId: string;
  kind: ReportKind;
  subject: string;
  deploymentId: string;
  state: ReportState;
  version: number;
  lastError: string | null;
  updatedAt: string;
}

export type ReportOutcome = OutboxOutcome;

export interface GitReports {
  provider(projectId: string): Promise<GitProviderSetting | null>;
  setProvider(setting: Omit<GitProviderSetting, "updatedAt">): Promise<GitProviderSetting>;
  /** Removes the setting and the project's reports (sent or not); false when the project had none. */
  deleteProvider(projectId: string): Promise<boolean>;
  /**
   * Records that `subject` should now say `state` for deployment `deploymentId` (created at
   * `deploymentCreatedAt`), due at `now`. A no-op when it already says so for that deployment (a redelivered
   * webhook, a repeated status) or when the row belongs to a newer deployment; true when queued.
   */
  upsert(input: {
    projectId: string;
    kind: ReportKind;
    subject: string;
    deploymentId: string;
    deploymentCreatedAt: string;
    state: ReportState;
    now: string;
  }): Promise<boolean>;
  /** Claims up to `limit` due pending reports whose lease is free or expired, for `holder` until `until`. */
  claimDue(holder: string, now: string, until: string, limit: number): Promise<GitReport[]>;
  /**
   * Applies an attempt's outcome to a claimed report and releases it; when the report changed meanwhile (its
   * version moved on) it stays pending, due now, for the new state. False when `holder` lost the lease.
   */
  finish(
    id: string,
    holder: string,
    version: number,
    outcome: ReportOutcome,
    error: string | null,
    now: string,
  ): Promise<boolean>;
  /** The project's reports, most recently changed first. */
  list(projectId: string, limit: number): Promise<GitReport[]>;
  /** Deletes finished reports last changed before `before`; how many. */
  prune(before: string): Promise<number>;
}

// Commit statuses and pull-request comments, the providers' REST APIs as each documents them: GitHub
// (POST /repos/{owner}/{repo}/statuses/{sha}, issue comments), GitLab (POST /projects/:id/statuses/:sha, merge
// request notes) and Gitea (POST /repos/{owner}/{repo}/statuses/{sha}, issue comments). Errors throw with what
// the provider answered; the dispatcher retries what may succeed later (ProviderError.permanent: what cannot).

import { fetchOutbound } from "../deploy/outbound.ts";
import type { GitProviderKind, ReportState } from "../store/git-reports.ts";

const TIMEOUT_MS = 10_000;
/** Pages of pull requests or comments read at most when looking for the branch's or our own. */
const MAX_PAGES = 10;
const PER_PAGE = 50;

export interface ProviderTarget {
  kind: GitProviderKind;
  apiUrl: string;
  /** owner/name (GitLab: the full path). */
  repository: string;
  token: string;
  /** MINIVERCEL_ALLOW_PRIVATE_HOOKS: the API may be on the platform's own network (no address check, no pin). */
  allowPrivate: boolean;
}

/** Each provider's auth header form. */
function authHeaders(t: ProviderTarget): Record<string, string> {
  switch (t.kind) {
    case "github":
      return {
        authorization: `Bearer ${t.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
      };
    case "gitlab":
      return { "private-token": t.token };
    case "gitea":
      return { authorization: `token ${t.token}` };
  }
}

/** Retry-After honoured at most this long: a longer one is the backoff's business, not one answer's. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** How long the provider asked us to wait (its Retry-After header), or null. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }

  /**
   * A refusal that sending again cannot change (bad token, no such repository, invalid fields): any 4xx but
   * 408 (timeout) and 429 (rate limited). 5xx, 408, 429, redirects and network errors are worth retrying.
   */
  get permanent(): boolean {
    return (
      this.status !== null &&
      this.status >= 400 &&
      this.status < 500 &&
      this.status !== 408 &&
      this.status !== 429
    );
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now (capped); null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : null;
}

/** The provider's own words: `message` (GitHub, Gitea, GitLab) or GitLab's `error`, else the body's start. */
function providerMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      const { message, error } = parsed as Record<string, unknown>;
      const words = typeof message === "string" ? message : typeof error === "string" ? error : null;
      if (words !== null) return words.slice(0, 200);
      if (message !== undefined) return JSON.stringify(message).slice(0, 200);
    }
  } catch {
    // Not JSON: the text as it came.
  }
  return text.slice(0, 200);
}

async function call(t: ProviderTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  // To the address that was checked (src/deploy/outbound.ts): the name cannot be made to point elsewhere meanwhile.
  const response = await fetchOutbound(
    `${t.apiUrl}${path}`,
    {
      method,
      headers: {
        ...authHeaders(t),
        "user-agent": "minivercel",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      // A redirect could carry the token elsewhere: it counts as the answer.
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    },
    t.allowPrivate,
  );
  const text = await response.text();
  if (!response.ok) {
    throw new ProviderError(
      `${method} ${path.split("?")[0]} answered ${response.status}: ${providerMessage(text)}`,
      response.status,
      retryAfterMs(response.headers.get("retry-after")),
    );
  }
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    throw new ProviderError(`${method} ${path.split("?")[0]} answered ${response.status} without JSON`, null);
  }
}

/** The repository in a path: owner/name as two segments (GitHub, Gitea), GitLab's project id URL-encoded. */
const repoPath = (t: ProviderTarget): string =>
  t.kind === "gitlab"
    ? `/projects/${encodeURIComponent(t.repository)}`
    : `/repos/${t.repository.split("/").map(encodeURIComponent).join("/")}`;

/** The platform's state in the provider's vocabulary. */
export function providerState(kind: GitProviderKind, state: ReportState): string {
  if (kind === "gitlab") return state === "failure" ? "failed" : state;
  // GitHub and Gitea: pending|success|failure|error (no running; a canceled build is an error).
  if (state === "running") return "pending";
  if (state === "canceled") return "error";
  return state;
}

export async function setCommitStatus(
  t: ProviderTarget,
  sha: string,
  s: { state: ReportState; targetUrl: string; description: string; context: string },
): Promise<void> {
  const description = s.description.slice(0, 140);
  const state = providerState(t.kind, s.state);
  const path = `${repoPath(t)}/statuses/${encodeURIComponent(sha)}`;
  if (t.kind !== "gitlab") {
    await call(t, "POST", path, { state, target_url: s.targetUrl, description, context: s.context });
    return;
  }
  try {
    await call(t, "POST", path, { state, name: s.context, target_url: s.targetUrl, description });
  } catch (error) {
    // GitLab refuses to set a status it already has ("Cannot transition status via :run from :running").
    if (
      error instanceof ProviderError &&
      error.status === 400 &&
      error.message.includes("Cannot transition")
    ) {
      return;
    }
    throw error;
  }
}

type Json = Record<string, unknown>;
const asList = (value: unknown): Json[] =>
  Array.isArray(value) ? value.filter((v): v is Json => typeof v === "object" && v !== null) : [];

/** Reads pages of a list endpoint until one is short or `found` says stop. */
async function pages(t: ProviderTarget, path: string, found: (items: Json[]) => boolean): Promise<void> {
  const sep = path.includes("?") ? "&" : "?";
  const size = t.kind === "gitea" ? "limit" : "per_page";
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = asList(await call(t, "GET", `${path}${sep}${size}=${PER_PAGE}&page=${page}`));
    if (found(items) || items.length < PER_PAGE) return;
  }
}

const headRef = (pr: Json): unknown => (pr.head as Json | undefined)?.ref;

/** The numbers (GitLab: iids) of the open pull/merge requests whose source is `branch`. */
export async function openRequestsFor(t: ProviderTarget, branch: string): Promise<number[]> {
  const numbers: number[] = [];
  const q = encodeURIComponent(branch);
  let path: string;
  if (t.kind === "gitlab") path = `${repoPath(t)}/merge_requests?state=opened&source_branch=${q}`;
  else if (t.kind === "github")
    path = `${repoPath(t)}/pulls?state=open&head=${encodeURIComponent(t.repository.split("/")[0] ?? "")}:${q}`;
  else path = `${repoPath(t)}/pulls?state=open`;
  await pages(t, path, (items) => {
    for (const item of items) {
      const ofBranch = t.kind === "gitlab" ? item.source_branch === branch : headRef(item) === branch;
      const n = t.kind === "gitlab" ? item.iid : item.number;
      if (ofBranch && typeof n === "number") numbers.push(n);
    }
    return false;
  });
  return numbers;
}

/**
 * Puts `body` (which starts with `marker`) as the one comment carrying `marker` on request `n`: the earlier one
 * is edited, else one is added. Returns which.
 */
export async function upsertComment(
  t: ProviderTarget,
  n: number,
  marker: string,
  body: string,
): Promise<"created" | "updated"> {
  const base = repoPath(t);
  const list =
    t.kind === "gitlab" ? `${base}/merge_requests/${n}/notes?sort=asc` : `${base}/issues/${n}/comments`;
  let mine: unknown = null;
  await pages(t, list, (items) => {
    const found = items.find((c) => typeof c.body === "string" && c.body.includes(marker));
    if (found) mine = found.id;
    return found !== undefined;
  });
  if (typeof mine === "number" || typeof mine === "string") {
    const id = encodeURIComponent(String(mine));
    if (t.kind === "gitlab") await call(t, "PUT", `${base}/merge_requests/${n}/notes/${id}`, { body });
    else await call(t, "PATCH", `${base}/issues/comments/${id}`, { body });
    return "updated";
  }
  await call(
    t,
    "POST",
    t.kind === "gitlab" ? `${base}/merge_requests/${n}/notes` : `${base}/issues/${n}/comments`,
    {
      body,
    },
  );
  return "created";
}

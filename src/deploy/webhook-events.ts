// Git webhooks, step one: verify a provider's delivery (GitHub, GitLab, Gitea) and read what it asks for.

import { createHmac, timingSafeEqual } from "node:crypto";

export type Provider = "github" | "gitlab" | "gitea";
export const PROVIDERS: readonly Provider[] = ["github", "gitlab", "gitea"];

/** What a verified delivery asks the platform to do. */
export type GitEvent =
  /** Build this commit of this branch (production when it is the production branch, else a preview). */
  | { kind: "deploy"; branch: string; commitSha: string }
  /** A pull/merge request closed: its branch's previews stop serving. */
  | { kind: "close"; branch: string }
  | { kind: "ping" }
  | { kind: "ignored"; reason: string };

/** The headers a provider sends, read once. */
export interface Delivery {
  event: string | null;
  deliveryId: string | null;
}

const ZERO_SHA = /^0+$/;
const BRANCH_REF = "refs/heads/";

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hmacHex = (secret: string, body: Uint8Array) => createHmac("sha256", secret).update(body).digest("hex");

/** Checks the delivery's signature (GitHub, Gitea: HMAC-SHA256 of the raw body) or token (GitLab). */
export function verifyDelivery(
  provider: Provider,
  headers: Headers,
  body: Uint8Array,
  secret: string,
): boolean {
  switch (provider) {
    case "github": {
      const signature = headers.get("x-hub-signature-256") ?? "";
      return equalSecret(signature, `sha256=${hmacHex(secret, body)}`);
    }
    case "gitea": {
      const signature = (headers.get("x-gitea-signature") ?? "").toLowerCase();
      return equalSecret(signature, hmacHex(secret, body));
    }
    case "gitlab":
      return equalSecret(headers.get("x-gitlab-token") ?? "", secret);
  }
}

export function deliveryOf(provider: Provider, headers: Headers): Delivery {
  switch (provider) {
    case "github":
      return { event: headers.get("x-github-event"), deliveryId: headers.get("x-github-delivery") };
    case "gitlab":
      return { event: headers.get("x-gitlab-event"), deliveryId: headers.get("x-gitlab-event-uuid") };
    case "gitea":
      return { event: headers.get("x-gitea-event"), deliveryId: headers.get("x-gitea-delivery") };
  }
}

/** The value at a path in parsed JSON, or undefined. */
function at(value: unknown, path: string[]): unknown {
  let here = value;
  for (const key of path) {
    if (typeof here !== "object" || here === null) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

function text(value: unknown, ...path: string[]): string | null {
  const found = at(value, path);
  return typeof found === "string" ? found : null;
}

/** Ids that are numbers in one provider's payload and strings in another's, as text. */
function scalar(value: unknown, ...path: string[]): string | null {
  const found = at(value, path);
  return typeof found === "string" || typeof found === "number" ? String(found) : null;
}

/** A push (GitHub and Gitea share the shape; GitLab adds checkout_sha): a branch's new head, or ignored. */
function push(payload: unknown, commitKey: "after" | "checkout_sha"): GitEvent {
  const ref = text(payload, "ref") ?? "";
  if (!ref.startsWith(BRANCH_REF))
    return { kind: "ignored", reason: `not a branch push (${ref || "no ref"})` };
  const after = text(payload, "after") ?? "";
  if (ZERO_SHA.test(after) || at(payload, ["deleted"]) === true) {
    return { kind: "ignored", reason: "branch deleted" };
  }
  const commitSha = text(payload, commitKey) ?? after;
  if (!commitSha) return { kind: "ignored", reason: "push without a commit" };
  return { kind: "deploy", branch: ref.slice(BRANCH_REF.length), commitSha };
}

function githubPullRequest(payload: unknown): GitEvent {
  const action = text(payload, "action");
  const branch = text(payload, "pull_request", "head", "ref");
  const sha = text(payload, "pull_request", "head", "sha");
  if (!branch || !sha) return { kind: "ignored", reason: "pull request without a head branch" };
  // A fork's branch is not in the project's repository, and building it would hand it the project's secrets.
  const head = text(payload, "pull_request", "head", "repo", "full_name");
  const base = text(payload, "pull_request", "base", "repo", "full_name");
  if (head !== null && base !== null && head !== base) {
    return { kind: "ignored", reason: "pull request from a fork" };
  }
  if (action === "opened" || action === "reopened" || action === "synchronize") {
    return { kind: "deploy", branch, commitSha: sha };
  }
  if (action === "closed") return { kind: "close", branch };
  return { kind: "ignored", reason: `pull request action ${action ?? "missing"}` };
}

function gitlabMergeRequest(payload: unknown): GitEvent {
  const action = text(payload, "object_attributes", "action");
  const branch = text(payload, "object_attributes", "source_branch");
  const sha = text(payload, "object_attributes", "last_commit", "id");
  if (!branch || !sha) return { kind: "ignored", reason: "merge request without a source branch" };
  const source = scalar(payload, "object_attributes", "source_project_id");
  const target = scalar(payload, "object_attributes", "target_project_id");
  if (source !== null && target !== null && source !== target) {
    return { kind: "ignored", reason: "merge request from a fork" };
  }
  if (action === "open" || action === "reopen") return { kind: "deploy", branch, commitSha: sha };
  // "update" also fires for title and label edits; only new commits (oldrev is then set) need a build.
  if (action === "update") {
    return text(payload, "object_attributes", "oldrev")
      ? { kind: "deploy", branch, commitSha: sha }
      : { kind: "ignored", reason: "merge request updated without new commits" };
  }
  if (action === "close" || action === "merge") return { kind: "close", branch };
  return { kind: "ignored", reason: `merge request action ${action ?? "missing"}` };
}

/** Reads a verified delivery's JSON payload; null when the body is not JSON. */
export function gitEventOf(provider: Provider, event: string | null, body: Uint8Array): GitEvent | null {
  if (provider === "github" && event === "ping") return { kind: "ping" };
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  switch (provider) {
    case "github":
      if (event === "push") return push(payload, "after");
      if (event === "pull_request") return githubPullRequest(payload);
      break;
    case "gitea":
      if (event === "push") return push(payload, "after");
      break;
    case "gitlab":
      if (event === "Push Hook") return push(payload, "checkout_sha");
      if (event === "Merge Request Hook") return gitlabMergeRequest(payload);
      break;
  }
  return { kind: "ignored", reason: `event ${event ?? "missing"} is not handled` };
}

/** Where each provider's payloads name the repository they are about (clone, web and SSH URLs). */
const REPOSITORY_URLS: Record<Provider, string[][]> = {
  github: [
    ["repository", "clone_url"],
    ["repository", "html_url"],
    ["repository", "ssh_url"],
    ["repository", "git_url"],
  ],
  gitea: [
    ["repository", "clone_url"],
    ["repository", "html_url"],
    ["repository", "ssh_url"],
  ],
  gitlab: [
    ["project", "git_http_url"],
    ["project", "git_ssh_url"],
    ["project", "web_url"],
    ["repository", "git_http_url"],
    ["repository", "git_ssh_url"],
    ["repository", "homepage"],
  ],
};

/** The repository URLs a delivery's JSON names; none when it is not JSON or names none. */
export function repositoryUrlsOf(provider: Provider, body: Uint8Array): string[] {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return [];
  }
  return REPOSITORY_URLS[provider].flatMap((path) => text(payload, ...path) ?? []);
}

/**
 * A git URL reduced to host and path, so that one repository's forms compare equal: https and SSH
 * (`git@host:owner/repo`, `ssh://git@host/owner/repo`), with or without `.git`, a trailing slash, credentials or
 * a port; letters folded (GitHub, GitLab and Gitea resolve owner and name case-insensitively). Null for what
 * names no host (a local path or file:// URL).
 */
export function repositoryKey(url: string): string | null {
  const trimmed = url.trim();
  let host: string;
  let path: string;
  if (trimmed.includes("://")) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return null;
    }
    host = parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  } else {
    // scp-like SSH: [user@]host:path
    const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(.+)$/.exec(trimmed);
    if (!scp?.[1] || !scp[2]) return null;
    host = scp[1];
    path = scp[2];
  }
  if (!host) return null;
  const clean = path
    .replace(/^\/+|\/+$/g, "")
    .replace(/\.git$/i, "")
    .replace(/\/+$/, "");
  return clean ? `${host}/${clean}`.toLowerCase() : null;
}

/** True when the delivery names the project's repository by one of its URLs. */
export function namesRepository(gitUrl: string, deliveryUrls: string[]): boolean {
  const wanted = repositoryKey(gitUrl);
  return wanted !== null && deliveryUrls.some((url) => repositoryKey(url) === wanted);
}

/** Where each provider's payloads name who sent the event (the pusher, or who opened or closed the request). */
const SENDERS: Record<Provider, string[][]> = {
  github: [
    ["sender", "login"],
    ["pusher", "name"],
  ],
  gitea: [
    ["pusher", "login"],
    ["pusher", "username"],
    ["sender", "login"],
  ],
  gitlab: [["user_username"], ["user", "username"], ["user_name"]],
};

/** The account on the git host that caused a delivery, as its payload names it (at most 100 characters), or null. */
export function senderOf(provider: Provider, body: Uint8Array): string | null {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  for (const path of SENDERS[provider]) {
    const name = text(payload, ...path)?.trim();
    if (name) return name.slice(0, 100);
  }
  return null;
}

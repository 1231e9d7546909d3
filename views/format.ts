// Display formatting shared by the views: dates, durations, commits, status labels.

import type { DeploymentStatus } from "../src/model/status.ts";

/** "2025-03-01 14:05 UTC"; app.js turns it into local, relative time in the browser. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "850 ms", "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** Time from the build starting to it finishing, or to `now` while it runs; null before it started. */
export function buildDuration(
  d: { startedAt: string | null; finishedAt: string | null },
  now: Date,
): number | null {
  if (!d.startedAt) return null;
  const end = d.finishedAt ? Date.parse(d.finishedAt) : now.getTime();
  return end - Date.parse(d.startedAt);
}

export const shortSha = (sha: string): string => sha.slice(0, 7);

/** What a deployment is called: its commit subject, or where there is none (an upload, a build not yet cloned). */
export function deploymentTitle(d: {
  commitMessage: string | null;
  commitSha: string | null;
  branch: string | null;
}): string {
  if (d.commitMessage) return d.commitMessage;
  if (d.commitSha) return `Commit ${shortSha(d.commitSha)}`;
  return d.branch ? `Deployment of ${d.branch}` : "Uploaded files";
}

export const STATUS_LABEL: Record<DeploymentStatus, string> = {
  NOT_STARTED: "Not started",
  QUEUED: "Queued",
  IN_PROGRESS: "Building",
  READY: "Ready",
  FAIL: "Failed",
  CANCELED: "Canceled",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what is removed
const ESCAPES = /\u001b\[[0-9;:?]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: so are stray control characters (tabs stay)
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

/** A log line as plain text for server-rendered pages: terminal colours and control characters removed. */
export function logText(text: string): string {
  return text.replace(ESCAPES, "").replace(CONTROLS, "");
}

/**
 * A log line that reports an error, whichever stream it came on (tools print errors on stdout and warnings or
 * progress on stderr). views/static/app.js paints lines with the same rule; keep the two in step.
 */
export const ERROR_LINE = /(^|[^A-Za-z])(error|err!|fatal|failed|failure|exception|panic)([^A-Za-z]|$)/i;

/** npm, yarn and pnpm echo the script they run as "> command": the command's own words are not its outcome. */
export const isErrorLine = (text: string): boolean => {
  const plain = logText(text);
  return !plain.startsWith("> ") && ERROR_LINE.test(plain);
};

// Outgoing webhooks, what is sent: the body in the hook's format and the Standard Webhooks signature headers
// (webhook-id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>").

import { createHmac } from "node:crypto";
import type { DeploymentEvent } from "../deploy/events.ts";
import type { HookFormat } from "../store/outgoing-hooks.ts";

/** The HMAC key of a `whsec_<base64>` secret: the bytes after the prefix. */
export const secretKey = (secret: string): Buffer => Buffer.from(secret.replace(/^whsec_/, ""), "base64");

/** "v1,<signature>" of `body` sent as message `id` at `timestamp` (seconds). */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

const WORDS: Record<DeploymentEvent["type"], string> = {
  "deployment.created": "was created",
  "deployment.ready": "is ready",
  "deployment.failed": "failed",
  "deployment.promoted": "was promoted to production",
  "deployment.rolled_back": "is production again (rollback)",
};

/** One line for people: Slack's `text`, Discord's `content`. */
export function summary(event: DeploymentEvent): string {
  const { project, deployment } = event.data;
  const branch = deployment.branch ? ` from ${deployment.branch}` : "";
  const reason = event.type === "deployment.failed" && deployment.reason ? `: ${deployment.reason}` : "";
  return `${project.name}: ${deployment.target} deployment ${deployment.id}${branch} ${WORDS[event.type]}${reason}`;
}

/** The body for a hook's format: the event itself, or a Slack / Discord incoming-webhook message. */
export function formatBody(format: HookFormat, payload: string): string {
  if (format === "standard") return payload;
  const event = JSON.parse(payload) as DeploymentEvent;
  // Discord's content is at most 2000 characters; Slack's text has no such small limit.
  return format === "slack"
    ? JSON.stringify({ text: summary(event) })
    : JSON.stringify({ content: summary(event).slice(0, 2000) });
}

/** Body and headers of one attempt of message `id` (the delivery id: the same on every retry). */
export function outgoingRequest(
  format: HookFormat,
  secret: string,
  id: string,
  payload: string,
  now: Date,
): { body: string; headers: Record<string, string> } {
  const body = formatBody(format, payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "minivercel-webhooks",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature(secret, id, timestamp, body),
    },
  };
}

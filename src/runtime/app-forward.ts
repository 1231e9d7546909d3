// One request to an app server instance: sent over the instance's socket as the visitor sent it (forwarded
// headers added), its answer relayed back, small ones whole and the rest as a stream.

import { forwardedHeaders, relayAnswer } from "./forward.ts";
import type { Instance } from "./instances.ts";
import type { Invocation, Outcome } from "./runtime.ts";

/** Answers up to this size (with a Content-Length) are passed on whole instead of streamed. */
const SMALL_BODY = 64 * 1024;

/**
 * Sends `invocation` to `instance` and answers with what it said. `done` is called once with the status when the
 * answer is over (read whole, relayed to its end, or failed), so the pool can count the instance free again.
 */
export async function forwardToInstance(
  instance: Pick<Instance, "socket" | "exited">,
  deploymentUrl: string,
  invocation: Invocation,
  done: (status: number) => void,
): Promise<Outcome> {
  const { request } = invocation;
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  let answer: Response;
  try {
    answer = await fetch(`http://localhost${invocation.path}${invocation.search}`, {
      unix: instance.socket,
      method: request.method,
      headers: forwardedHeaders(invocation, deploymentUrl),
      redirect: "manual",
      ...(hasBody && { body: request.body, duplex: "half" }),
      decompress: false,
    } as RequestInit);
  } catch {
    // It crashed (or is crashing): wait a moment for its end, so the next request starts a fresh one instead.
    await Promise.race([instance.exited, Bun.sleep(1000)]);
    done(502);
    return { kind: "failed", status: 502, reason: "the app server crashed or closed the connection" };
  }
  // A HEAD's answer has no body to read whole.
  return relayAnswer(answer, request.method === "HEAD" ? -1 : SMALL_BODY, done, () => {
    done(502);
    return { kind: "failed", status: 502, reason: "the app server closed the connection mid-answer" };
  });
}

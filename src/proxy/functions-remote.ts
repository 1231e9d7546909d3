// Functions on other machines (PROXY_FUNCTIONS=remote): the function runtime as the proxy sees it when the
// instances run on `functions` nodes. Each call goes to the node rendezvous hashing picks for its function
// (function-nodes.ts), signed (src/runtime/node-wire.ts), both bodies streamed; a node that does not take the call
// is skipped for the next one. No node left: a 503 page.

import type { FunctionCall } from "../../schema/function-nodes.ts";
import type { NodeAuth } from "../identity/node-auth.ts";
import { parseFunctionConfig } from "../model/function-config.ts";
import type { Logger } from "../observe/log.ts";
import { countedAs, countingRelay, HOP_BY_HOP } from "../runtime/forward.ts";
import {
  callBody,
  INVOKE_PATH,
  OUTCOME_HEADER,
  PLATFORM_HEADER_PREFIX,
  SIGNATURE_HEADER,
  signCall,
} from "../runtime/node-wire.ts";
import type { FunctionRuntime, FunctionTarget, Invocation, Outcome } from "../runtime/runtime.ts";
import type { Artifacts } from "../store/artifacts.ts";
import { remoteApps } from "./apps-remote.ts";
import type { FunctionNode, NodeDirectory } from "./function-nodes.ts";

/** A node that has not taken a call's first bytes within this long is taken for down: the next one is tried. */
const CONNECT_MS = 3_000;
/** The longest maxDuration a function may have (src/model/function-config.ts), for one whose config is unreadable. */
const LONGEST_SECONDS = 900;
/** Beyond the function's maxDuration and start time: the node's own 504 comes first. */
const SLACK_SECONDS = 10;
/** Retried on another node when the connection failed before an answer: nothing in them changes anything. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS"]);

export type RemoteDeps = {
  config: { functions: { startTimeoutSeconds: number } };
  artifacts: Pick<Artifacts, "getBlob">;
  nodeAuth: NodeAuth;
  log: Logger;
};

/** A call before it is addressed to a node. */
export type UnsentCall = Omit<FunctionCall, "node" | "at" | "nonce">;

/** One attempt on one node: an outcome, or a call the node did not take (or cannot have run: safe to send again). */
type Attempt = { kind: "outcome"; outcome: Outcome } | { kind: "not-taken"; why: string };

export function remoteRuntime(deps: RemoteDeps, directory: NodeDirectory): FunctionRuntime {
  const log = deps.log.child({ part: "functions-remote" });
  const durations = new Map<string, Promise<number>>();

  /** The function's maxDuration from its .vc-config.json (the node reads the same blob), once per config. */
  function maxDurationOf(target: FunctionTarget): Promise<number> {
    const hash = target.fn.config.hash;
    let known = durations.get(hash);
    if (!known) {
      known = deps.artifacts
        .getBlob(hash)
        .then(async (blob) => {
          const parsed = blob ? parseFunctionConfig(await blob.text()) : null;
          return parsed && "spec" in parsed ? parsed.spec.maxDurationSeconds : LONGEST_SECONDS;
        })
        .catch(() => LONGEST_SECONDS);
      if (durations.size > 4096) durations.clear();
      durations.set(hash, known);
    }
    return known;
  }

  /** The node's answer as an outcome; anything but an outcome means the node refused the call itself. */
  async function outcomeOf(
    node: FunctionNode,
    response: Response,
    relayed: ReturnType<typeof countingRelay> | null,
  ) {
    const said = response.headers.get(OUTCOME_HEADER);
    if (said === "failed") {
      const body = (await response.json().catch(() => null)) as { reason?: unknown } | null;
      const status = response.status === 504 ? 504 : 502;
      const reason = typeof body?.reason === "string" ? body.reason : "the function failed";
      return { kind: "outcome", outcome: { kind: "failed", status, reason } } as const;
    }
    if (said !== "response") {
      await response.body?.cancel().catch(() => {});
      // 401: another MINIVERCEL_SECRET_KEY, or a clock too far off; 400: another version of minivercel.
      log.error(`functions node ${node.id} at ${node.url} refused a call with HTTP ${response.status}`, {
        hint: "every proxy and functions node needs the same MINIVERCEL_SECRET_KEY, version and a synchronized clock",
      });
      return { kind: "not-taken", why: `refused with HTTP ${response.status}` } as const;
    }
    const headers = new Headers();
    for (const [name, value] of response.headers)
      if (!name.startsWith(PLATFORM_HEADER_PREFIX) && !HOP_BY_HOP.includes(name) && name !== "set-cookie")
        headers.append(name, value);
    for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
    const answer = new Response(relayed?.readable ?? null, { status: response.status, headers });
    // An answer without a length is counted by what its stream relays (web analytics).
    const counted = relayed && !headers.has("content-length") ? countedAs(answer, relayed.total) : answer;
    return { kind: "outcome", outcome: { kind: "response", response: counted } } as const;
  }

  async function attempt(
    node: FunctionNode,
    call: UnsentCall,
    body: ReadableStream<Uint8Array> | null,
    /** The longest the call may take, body included; null: as long as the node keeps it going (app servers). */
    limitMs: number | null,
    touched: () => void,
  ): Promise<Attempt> {
    const signedCall = signCall(deps.nodeAuth, {
      ...call,
      node: node.id,
      at: Date.now(),
      nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url"),
    });
    const controller = new AbortController();
    let taken = false;
    const connect = setTimeout(() => taken || controller.abort("connect"), CONNECT_MS);
    const deadline = limitMs === null ? undefined : setTimeout(() => controller.abort("deadline"), limitMs);
    const end = () => {
      clearTimeout(connect);
      clearTimeout(deadline);
    };
    // The node taking the call's first bytes is the sign that it is connected.
    const stream = callBody(signedCall.bytes, body, {
      taken: () => {
        taken = true;
        clearTimeout(connect);
      },
      touched,
    });
    let response: Response;
    try {
      response = await fetch(`${node.url}${INVOKE_PATH}`, {
        method: "POST",
        headers: { [SIGNATURE_HEADER]: signedCall.signature, "content-type": "application/octet-stream" },
        body: stream,
        duplex: "half",
        signal: controller.signal,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
    } catch (error) {
      end();
      const reason = controller.signal.reason;
      if (reason === "deadline")
        return {
          kind: "outcome",
          outcome: { kind: "failed", status: 504, reason: `no answer within ${(limitMs ?? 0) / 1000} s` },
        };
      if (!taken || IDEMPOTENT.has(call.method))
        return { kind: "not-taken", why: reason === "connect" ? "no connection" : String(error) };
      return {
        kind: "outcome",
        outcome: {
          kind: "failed",
          status: 502,
          reason: `the functions node ${node.id} closed the connection`,
        },
      };
    }
    clearTimeout(connect);
    // Streamed through as it comes; the deadline covers the body too (the node's maxDuration ends it first).
    const source = response.body;
    let relayed: ReturnType<typeof countingRelay> | null = null;
    if (source) relayed = countingRelay(source, end);
    else end();
    const result = await outcomeOf(node, response, relayed);
    if (result.kind === "not-taken" || result.outcome.kind === "failed") end();
    return result;
  }

  /** A call's fields (all but its node, time and nonce) for a function or app server of `target`'s deployment. */
  function callOf(
    target: Pick<FunctionTarget, "deploymentId" | "projectId" | "environment" | "deploymentUrl">,
    invocation: Invocation,
    what: Pick<FunctionCall, "function" | "app">,
  ): UnsentCall {
    const headers: [string, string][] = [];
    for (const [name, value] of invocation.request.headers)
      if (!name.startsWith(PLATFORM_HEADER_PREFIX)) headers.push([name, value]);
    return {
      v: 1 as const,
      method: invocation.request.method,
      headers,
      deploymentId: target.deploymentId,
      projectId: target.projectId,
      environment: target.environment,
      deploymentUrl: target.deploymentUrl,
      ...what,
      path: invocation.path,
      search: invocation.search,
      host: invocation.host,
      proto: invocation.proto,
      clientIp: invocation.clientIp,
      requestId: invocation.requestId,
    };
  }

  /** Sends the call to the node rendezvous hashing picks for `key`, or the next one when a node does not take it. */
  async function send(
    key: string,
    call: UnsentCall,
    request: Request,
    limitMs: number | null,
    logged: Record<string, string>,
  ): Promise<Outcome> {
    await directory.settled();
    const nodes = directory.candidates(key);
    if (nodes.length === 0)
      return { kind: "failed", status: 503, reason: "no functions node is up (PROXY_FUNCTIONS=remote)" };
    const body = request.method !== "GET" && request.method !== "HEAD" ? request.body : null;
    let touched = false;
    for (const node of nodes) {
      const result = await attempt(node, call, body, limitMs, () => {
        touched = true;
      });
      if (result.kind === "outcome") return result.outcome;
      directory.unreachable(node.id);
      log.warn(`functions node ${node.id} at ${node.url} did not take a call: ${result.why}`, {
        ...logged,
        requestId: call.requestId,
      });
      // Part of the request's body went to that node: it cannot be sent again.
      if (touched)
        return {
          kind: "failed",
          status: 502,
          reason: "the functions node failed while the request was sent",
        };
    }
    return { kind: "failed", status: 503, reason: "no functions node could be reached" };
  }

  async function invoke(target: FunctionTarget, invocation: Invocation): Promise<Outcome> {
    const limitMs =
      ((await maxDurationOf(target)) + deps.config.functions.startTimeoutSeconds + SLACK_SECONDS) * 1000;
    const call = callOf(target, invocation, { function: target.path });
    return send(`${target.deploymentId}:${target.path}`, call, invocation.request, limitMs, {
      deploymentId: target.deploymentId,
      function: target.path,
    });
  }

  return {
    invoke,
    apps: remoteApps({ ...deps, log }, directory, { callOf, send }),
    // The instances are the nodes'.
    instances: () => [],
    async stop() {},
  };
}

// Functions nodes (`serve --role=functions`) and the proxies that send them work: the announcements on the bus
// topic `function-nodes` and the call a proxy makes to a node. Both cross process boundaries, so both are
// validated on receipt, and both are signed (src/identity/node-auth.ts): the bus and the network are trust
// boundaries.

import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { DeploymentId } from "./events.ts";
import { REQUEST_ID_PATTERN } from "./runtime-logs.ts";

const NodeId = Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" });
/** Epoch milliseconds on the sender's clock. */
const At = Type.Integer({ minimum: 0, maximum: 2 ** 50 });
const Signature = Type.String({ pattern: "^[A-Za-z0-9_-]{43}$" });

/** A node is up: where proxies reach it, what it takes and how busy it is. Sent at start and every heartbeat. */
export const NodeAnnouncement = Type.Object(
  {
    type: Type.Literal("node"),
    id: NodeId,
    url: Type.String({ pattern: "^https?://[^\\s/?#]+$", maxLength: 512 }),
    /** FUNCTIONS_CAPACITY: instances it runs before proxies prefer another node, and its weight among nodes. */
    capacity: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** Instances running (or starting) on it now. */
    load: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    at: At,
    sig: Signature,
  },
  { additionalProperties: false },
);

/** A node is stopping: proxies send it nothing more. */
export const NodeLeaving = Type.Object(
  { type: Type.Literal("leaving"), id: NodeId, at: At, sig: Signature },
  { additionalProperties: false },
);

/** A proxy has just started: every node announces itself now instead of at its next heartbeat. */
export const NodesProbe = Type.Object(
  { type: Type.Literal("probe"), at: At, sig: Signature },
  { additionalProperties: false },
);

export const NodeMessage = Type.Union([NodeAnnouncement, NodeLeaving, NodesProbe]);
export type NodeAnnouncement = Static<typeof NodeAnnouncement>;
export type NodeLeaving = Static<typeof NodeLeaving>;
export type NodesProbe = Static<typeof NodesProbe>;
export type NodeMessage = Static<typeof NodeMessage>;
/** A message before it is signed. */
export type UnsignedNodeMessage =
  | Omit<NodeAnnouncement, "sig">
  | Omit<NodeLeaving, "sig">
  | Omit<NodesProbe, "sig">;

/** What a message's signature covers: every field but the signature, in a fixed order. */
export function signedText(message: UnsignedNodeMessage): string {
  switch (message.type) {
    case "node":
      return ["node", message.id, message.url, message.capacity, message.load, message.at].join("\n");
    case "leaving":
      return ["leaving", message.id, message.at].join("\n");
    case "probe":
      return ["probe", message.at].join("\n");
  }
}

const checkMessage = TypeCompiler.Compile(NodeMessage);

export function parseNodeMessage(value: unknown): NodeMessage | null {
  return checkMessage.Check(value) ? value : null;
}

/**
 * A proxy's call to a node: which function, for which request. It travels at the head of the call's body, signed,
 * and the request's own body follows it (src/runtime/node-wire.ts).
 */
export const FunctionCall = Type.Object(
  {
    v: Type.Literal(1),
    /** The node it is for: a call replayed to another node is refused. */
    node: NodeId,
    at: At,
    /** Unique per call: a node refuses one it has seen (within the accepted clock skew). */
    nonce: Type.String({ pattern: "^[A-Za-z0-9_-]{16,64}$" }),
    method: Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$" }),
    /** The request's headers as the proxy forwards them, repeated names repeated. */
    headers: Type.Array(Type.Tuple([Type.String({ maxLength: 1024 }), Type.String({ maxLength: 65536 })]), {
      maxItems: 1000,
    }),
    deploymentId: DeploymentId,
    projectId: Type.String({ minLength: 1, maxLength: 64 }),
    environment: Type.Union([Type.Literal("production"), Type.Literal("preview")]),
    deploymentUrl: Type.String({ pattern: "^https?://", maxLength: 2048 }),
    /**
     * The function's path in the deployment's manifest ("/api/hello"); its code is read from the artifact store.
     * Absent in a call for the deployment's app server.
     */
    function: Type.Optional(Type.String({ pattern: "^/", maxLength: 4096 })),
    /** A call for the deployment's app server (its manifest's `server`), with its project's settings. */
    app: Type.Optional(
      Type.Object(
        {
          /** Stopped after this long without a request (0: always on). */
          idleMs: Type.Integer({ minimum: 0, maximum: 2 ** 40 }),
          maxInstances: Type.Integer({ minimum: 1, maximum: 1000 }),
          /** Only start the server (before a promotion switches hosts to it): no request reaches it. */
          start: Type.Optional(Type.Literal(true)),
        },
        { additionalProperties: false },
      ),
    ),
    path: Type.String({ pattern: "^/", maxLength: 16384 }),
    search: Type.String({ maxLength: 65536 }),
    host: Type.String({ maxLength: 1024 }),
    proto: Type.Union([Type.Literal("http"), Type.Literal("https")]),
    clientIp: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    requestId: Type.String({ pattern: REQUEST_ID_PATTERN }),
  },
  { additionalProperties: false },
);
export type FunctionCall = Static<typeof FunctionCall>;

const checkCall = TypeCompiler.Compile(FunctionCall);

export function parseFunctionCall(value: unknown): FunctionCall | null {
  return checkCall.Check(value) ? value : null;
}

/**
 * An api process's question to a node about one deployment's app server (POST /v1/apps): `view` its instances, or
 * `restart` them. The whole body, signed like a function call, and checked the same way (node, time, nonce).
 */
export const AppsCall = Type.Object(
  {
    v: Type.Literal(1),
    node: NodeId,
    at: At,
    nonce: Type.String({ pattern: "^[A-Za-z0-9_-]{16,64}$" }),
    op: Type.Union([Type.Literal("view"), Type.Literal("restart")]),
    deploymentId: DeploymentId,
  },
  { additionalProperties: false },
);
export type AppsCall = Static<typeof AppsCall>;

const checkAppsCall = TypeCompiler.Compile(AppsCall);

export function parseAppsCall(value: unknown): AppsCall | null {
  return checkAppsCall.Check(value) ? value : null;
}

const Iso = Type.String({ maxLength: 64 });

/** A node's answer to an AppsCall: the deployment's server on that node (null: it has never run there). */
export const AppsAnswer = Type.Object({
  app: Type.Union([
    Type.Object({
      instances: Type.Array(
        Type.Object({
          id: Type.String({ maxLength: 128 }),
          state: Type.Union([
            Type.Literal("starting"),
            Type.Literal("ready"),
            Type.Literal("stopping"),
            Type.Literal("stopped"),
          ]),
          inFlight: Type.Integer({ minimum: 0 }),
          memoryBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          startedAt: Iso,
          lastRequestAt: Type.Union([Iso, Type.Null()]),
        }),
        { maxItems: 1000 },
      ),
      restarts: Type.Integer({ minimum: 0 }),
      crashes: Type.Integer({ minimum: 0 }),
      crashLoop: Type.Boolean(),
      lastExit: Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]),
    }),
    Type.Null(),
  ]),
});
export type AppsAnswer = Static<typeof AppsAnswer>;

const checkAppsAnswer = TypeCompiler.Compile(AppsAnswer);

export function parseAppsAnswer(value: unknown): AppsAnswer | null {
  return checkAppsAnswer.Check(value) ? value : null;
}

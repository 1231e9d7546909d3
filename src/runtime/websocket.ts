// Proxy: a visitor's WebSocket to an app server. Bun's WebSocket client cannot dial a Unix socket, so the proxy
// speaks the protocol's client side itself (RFC 6455) over the app instance's socket: the handshake (the app's
// 101, or its refusal answered as it is), then frames both ways: text, binary, ping/pong, close. The visitor's side
// is Bun.serve's own WebSocket.

import type { Server, ServerWebSocket, Socket, SocketHandler } from "bun";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** A message larger than this from the app closes the connection (1009), as Bun's server does for visitors. */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** What the proxy's Bun.serve keeps per visitor socket. */
export interface RelayData {
  upstream: Socket<Upstream>;
  /** Called once when the relay ends (the instance is free again). */
  release: () => void;
  protocol: string | null;
}

interface Upstream {
  buffered: Uint8Array;
  handshake: ((head: { status: number; headers: Headers; rest: Uint8Array } | null) => void) | null;
  visitor: ServerWebSocket<RelayData> | null;
  fragments: Uint8Array[];
  fragmentOp: number;
  closed: boolean;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
};

/** One client frame (always masked, as a client's must be). */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + extended + 4 + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
  const view = new DataView(frame.buffer);
  if (extended === 2) view.setUint16(2, length);
  else if (extended === 8) view.setBigUint64(2, BigInt(length));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, 2 + extended);
  const start = 2 + extended + 4;
  for (let i = 0; i < length; i++) frame[start + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return frame;
}

/** The complete frames at the start of `data` and what is left; throws on a frame no server may send. */
export function decodeFrames(data: Uint8Array): {
  frames: { fin: boolean; opcode: number; payload: Uint8Array }[];
  rest: Uint8Array;
} {
  const frames: { fin: boolean; opcode: number; payload: Uint8Array }[] = [];
  let at = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  while (data.byteLength - at >= 2) {
    const first = data[at] as number;
    const second = data[at + 1] as number;
    if (second & 0x80) throw new Error("a server frame must not be masked");
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      if (data.byteLength - at < 4) break;
      length = view.getUint16(at + 2);
      header = 4;
    } else if (length === 127) {
      if (data.byteLength - at < 10) break;
      const big = view.getBigUint64(at + 2);
      if (big > BigInt(MAX_MESSAGE)) throw new Error("frame too large");
      length = Number(big);
      header = 10;
    }
    if (length > MAX_MESSAGE) throw new Error("frame too large");
    if (data.byteLength - at < header + length) break;
    frames.push({
      fin: (first & 0x80) !== 0,
      opcode: first & 0x0f,
      payload: data.slice(at + header, at + header + length),
    });
    at += header + length;
  }
  return { frames, rest: data.slice(at) };
}

/** Splits an HTTP/1.1 response head from what follows it; null until the head is complete. */
function parseHead(data: Uint8Array): { status: number; headers: Headers; rest: Uint8Array } | null {
  const text = new TextDecoder("latin1").decode(data);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 502);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status, headers, rest: data.slice(end + 4) };
}

function deliver(state: Upstream, socket: Socket<Upstream>): void {
  const visitor = state.visitor;
  if (!visitor) return;
  let decoded: ReturnType<typeof decodeFrames>;
  try {
    decoded = decodeFrames(state.buffered);
  } catch {
    visitor.close(1002, "the app sent a bad frame");
    socket.end();
    return;
  }
  state.buffered = decoded.rest;
  for (const frame of decoded.frames) {
    switch (frame.opcode) {
      case 0x0:
      case 0x1:
      case 0x2: {
        if (frame.opcode !== 0) state.fragmentOp = frame.opcode;
        state.fragments.push(frame.payload);
        if (!frame.fin) break;
        const whole = state.fragments.reduce(concat, new Uint8Array(0));
        state.fragments = [];
        if (state.fragmentOp === 0x1) visitor.send(new TextDecoder().decode(whole));
        else visitor.send(whole);
        break;
      }
      case 0x8: {
        const code = frame.payload.byteLength >= 2 ? new DataView(frame.payload.buffer).getUint16(0) : 1000;
        const reason = new TextDecoder().decode(frame.payload.slice(2));
        state.closed = true;
        visitor.close(code === 1005 || code === 1006 ? 1000 : code, reason);
        socket.end();
        break;
      }
      case 0x9:
        socket.write(encodeFrame(0xa, frame.payload));
        break;
      default:
        break;
    }
  }
}

/**
 * Where a WebSocket to an app server is opened: the instance's Unix socket in this process, or a functions node's
 * socket endpoint (src/runtime/node.ts) with the signed call in `headers`, which relays it to the app there.
 */
export type UpstreamAddress =
  | { unix: string }
  | { hostname: string; port: number; path: string; headers: [string, string][] };

/**
 * Opens the app's side: connects to `address`, sends the upgrade request for `target` with `headers` (to a node:
 * for its endpoint, with the node's headers: the visitor's request travels in the signed call), and resolves with
 * the answer. A 101 comes with the connected socket (frames flow once `attach` names the visitor); anything else is
 * returned as a response for the visitor, and the socket is closed.
 */
export async function connectUpstream(
  address: UpstreamAddress,
  target: string,
  headers: Headers,
): Promise<
  | { kind: "accepted"; socket: Socket<Upstream>; protocol: string | null }
  | { kind: "refused"; response: Response }
> {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const state: Upstream = {
    buffered: new Uint8Array(0),
    handshake: null,
    visitor: null,
    fragments: [],
    fragmentOp: 0x1,
    closed: false,
  };
  const head = new Promise<{ status: number; headers: Headers; rest: Uint8Array } | null>((resolve) => {
    state.handshake = resolve;
  });
  const handlers: { socket: SocketHandler<Upstream> } = {
    socket: {
      data(s, chunk) {
        state.buffered = concat(state.buffered, new Uint8Array(chunk));
        if (state.handshake) {
          const parsed = parseHead(state.buffered);
          if (!parsed) return;
          const done = state.handshake;
          state.handshake = null;
          state.buffered = parsed.rest;
          done(parsed);
        }
        deliver(state, s);
      },
      close() {
        state.handshake?.(null);
        state.handshake = null;
        if (!state.closed) state.visitor?.close(1001, "the app server went away");
        state.closed = true;
      },
      error() {
        state.handshake?.(null);
        state.handshake = null;
      },
    },
  };
  const socket =
    "unix" in address
      ? await Bun.connect<Upstream>({ unix: address.unix, data: state, ...handlers })
      : await Bun.connect<Upstream>({
          hostname: address.hostname,
          port: address.port,
          data: state,
          ...handlers,
        });
  const remote = "unix" in address ? null : address;
  const lines = [
    `GET ${remote ? remote.path : target} HTTP/1.1`,
    "connection: Upgrade",
    "upgrade: websocket",
    `sec-websocket-key: ${key}`,
    "sec-websocket-version: 13",
  ];
  const sent = remote
    ? new Headers([["host", `${remote.hostname}:${remote.port}`], ...remote.headers])
    : headers;
  sent.forEach((value, name) => {
    if (
      /^(connection|upgrade|sec-websocket-(key|version|extensions|accept)|content-length|transfer-encoding)$/i.test(
        name,
      )
    )
      return;
    if (/[\r\n]/.test(value)) return;
    lines.push(`${name}: ${value}`);
  });
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  const answer = await head;
  if (answer === null)
    return {
      kind: "refused",
      response: new Response("the app server closed the connection", { status: 502 }),
    };
  const expected = new Bun.CryptoHasher("sha1").update(key + GUID).digest("base64");
  if (answer.status === 101 && answer.headers.get("sec-websocket-accept") === expected)
    return { kind: "accepted", socket, protocol: answer.headers.get("sec-websocket-protocol") };
  socket.end();
  const body = answer.rest.byteLength > 0 ? new Blob([answer.rest as Uint8Array<ArrayBuffer>]) : null;
  return {
    kind: "refused",
    response: new Response(body, {
      status: answer.status === 101 ? 502 : answer.status,
      headers: answer.headers,
    }),
  };
}

/** Bun.serve's `websocket` handlers for visitors relayed to app servers. */
export const relayHandlers = {
  open(ws: ServerWebSocket<RelayData>) {
    const state = ws.data.upstream.data;
    state.visitor = ws;
    deliver(state, ws.data.upstream);
  },
  message(ws: ServerWebSocket<RelayData>, message: string | Buffer) {
    const payload = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
    ws.data.upstream.write(encodeFrame(typeof message === "string" ? 0x1 : 0x2, payload));
  },
  ping(ws: ServerWebSocket<RelayData>, data: Buffer) {
    ws.data.upstream.write(encodeFrame(0x9, new Uint8Array(data)));
  },
  close(ws: ServerWebSocket<RelayData>, code: number, reason: string) {
    const upstream = ws.data.upstream;
    if (!upstream.data.closed) {
      const payload = new Uint8Array(2 + Buffer.byteLength(reason));
      new DataView(payload.buffer).setUint16(0, code === 1005 || code === 1006 ? 1000 : code);
      payload.set(new TextEncoder().encode(reason), 2);
      upstream.write(encodeFrame(0x8, payload));
      upstream.data.closed = true;
    }
    upstream.end();
    ws.data.release();
  },
};

/** What opens a visitor's WebSocket (the site proxy): an answer, or undefined once `upgrade` took the request. */
export interface WebSocketRouter {
  websocket(
    request: Request,
    upgrade: (request: Request, data: RelayData, protocol: string | null) => boolean,
  ): Promise<Response | undefined>;
}

/** The `fetch` and `websocket` of a proxy's Bun.serve: WebSocket requests go to `proxy.websocket`, others to `fetch`. */
export function withWebSockets(
  proxy: WebSocketRouter,
  fetch: (request: Request) => Response | Promise<Response>,
) {
  return {
    fetch(request: Request, server: Server<RelayData>): Response | Promise<Response | undefined> {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return fetch(request);
      return proxy.websocket(request, (req, data, protocol) =>
        server.upgrade(req, { data, ...(protocol && { headers: { "sec-websocket-protocol": protocol } }) }),
      );
    },
    websocket: relayHandlers,
  };
}

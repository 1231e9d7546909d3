// The function launcher: runs inside a function's sandbox (as `bun launcher.ts`), imports the function's handler
// and serves it over a Unix socket the runtime forwards requests to. Self-contained on purpose: it is copied into
// the sandbox as one file (src/runtime/instances.ts), so it imports nothing of minivercel.
//
// Handler styles, as Vercel's Node.js runtime accepts them (detected from the module's exports):
//   Web: named HTTP method exports (`export function GET(request)`), or a default `{ fetch(request) }`; edge
//        functions' default `function (request, context)` too.
//   Node: a default `function (req, res)` with Vercel's helpers (`req.query`, `req.cookies`, `req.body`,
//        `res.status()`, `res.json()`, `res.send()`, `res.redirect()`), or a module that calls `server.listen()`
//        (Express and friends): that server is captured instead of listening where it asked.
// Environment: MV_FUNCTION_DIR (the bundle, read-only), MV_HANDLER (its entry, relative), MV_RUNTIME ("nodejs" or
// "edge"), MV_HELPERS ("1": add the Node helpers), MV_SOCKET (where to listen).

import { AsyncLocalStorage } from "node:async_hooks";
import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const READY = "@@minivercel-ready@@";
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"] as const;
type WebHandler = (request: Request, context: { waitUntil(promise: Promise<unknown>): void }) => unknown;
type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`launcher: ${name} is not set`);
  return value;
};

const socket = env("MV_SOCKET");
const entry = join(env("MV_FUNCTION_DIR"), env("MV_HANDLER"));
const isEdge = process.env.MV_RUNTIME === "edge";
const withHelpers = process.env.MV_HELPERS !== "0";
// Vercel's Edge runtime defines this global; libraries check `typeof EdgeRuntime === "string"` to use their Web code.
if (isEdge) Object.assign(globalThis, { EdgeRuntime: "edge-runtime" });

// Each request's id, so that a log line written while it runs can be told apart from the others. Every line of
// the output carries it (the runtime reads output line by line), so a stack trace stays with its request.
const requestIds = new AsyncLocalStorage<string>();
for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    const id = requestIds.getStore();
    if (!id) return original(...args);
    const prefix = `[${id}] `;
    original(prefix + format(...args).replaceAll("\n", () => `\n${prefix}`));
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** A server the module started itself with `.listen()` (Express, Koa, ...): captured, not listened. */
const captured: { server: Server | null } = { server: null };
const originalListen = http.Server.prototype.listen;
http.Server.prototype.listen = function (this: Server) {
  captured.server = this;
  http.Server.prototype.listen = originalListen;
  return this;
} as typeof originalListen;

let exports: unknown = await import(pathToFileURL(entry).href);
http.Server.prototype.listen = originalListen;

/** Exports a Web handler itself: HTTP method functions or a `fetch`. */
const isWebModule = (value: unknown): boolean =>
  isRecord(value) &&
  (METHODS.some((method) => typeof value[method] === "function") || typeof value.fetch === "function");

// `export default` (and TypeScript compiled to CommonJS, which nests it): unwrap to the handler.
for (let i = 0; i < 5 && isRecord(exports) && !isWebModule(exports) && exports.default; i++)
  exports = exports.default;

function webHandlers(): Map<string, WebHandler> | null {
  const found = new Map<string, WebHandler>();
  const source = exports;
  if (isRecord(source)) {
    for (const method of METHODS) {
      const handler = source[method];
      if (typeof handler === "function") found.set(method, handler as WebHandler);
    }
    const fetchHandler = source.fetch;
    if (found.size === 0 && typeof fetchHandler === "function") {
      const bound = (fetchHandler as WebHandler).bind(source);
      for (const method of METHODS) found.set(method, bound);
    }
  }
  if (found.size === 0 && isEdge && typeof exports === "function") {
    for (const method of METHODS) found.set(method, exports as WebHandler);
  }
  return found.size > 0 ? found : null;
}

const pending = new Set<Promise<unknown>>();
const waitUntil = (promise: Promise<unknown>) => {
  const tracked = promise
    .catch((error: unknown) => console.error("waitUntil:", error))
    .finally(() => {
      pending.delete(tracked);
    });
  pending.add(tracked);
};

function serveWeb(handlers: Map<string, WebHandler>): void {
  const options: Parameters<typeof Bun.serve>[0] = {
    unix: socket,
    // The runtime bounds bodies and time; a function may stream for as long as its maxDuration allows.
    maxRequestBodySize: 64 * 1024 * 1024,
    async fetch(request) {
      const id = request.headers.get("x-vercel-id") ?? "";
      const handler =
        handlers.get(request.method) ?? (request.method === "HEAD" ? handlers.get("GET") : undefined);
      if (!handler) {
        const allow = [...handlers.keys()].join(", ");
        return new Response("Method Not Allowed\n", { status: 405, headers: { allow } });
      }
      // The visitor's URL, as on Vercel: https when the platform says the request came over it (the runtime
      // sets X-Forwarded-Proto; nothing else reaches this socket).
      const visitor =
        request.headers.get("x-forwarded-proto") === "https" && request.url.startsWith("http:")
          ? new Request(`https:${request.url.slice(5)}`, request)
          : request;
      const result = await requestIds.run(id, () => handler(visitor, { waitUntil }));
      if (result instanceof Response) return result;
      console.error(`the handler for ${request.method} returned no Response`);
      return new Response("The function did not return a Response.\n", { status: 500 });
    },
  };
  // No idle cut-off: a function may think, or pause its stream, for as long as its maxDuration, which the runtime
  // enforces. Per request, server.timeout(request, 0) does not hold on a Unix socket; the server-wide setting
  // does, though Bun's types leave it out of the Unix-socket options.
  Bun.serve(Object.assign(options, { idleTimeout: 0 }) as typeof options);
  ready();
}

/** Vercel's Node helpers: parsed query, cookies and body on the request; status/json/send/redirect on the response. */
async function withNodeHelpers(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const before = query[key];
    query[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  const cookies: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) cookies[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const raw = Buffer.concat(chunks);
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  let parsed: unknown;
  let parsedOnce = false;
  Object.assign(req, { query, cookies });
  Object.defineProperty(req, "body", {
    enumerable: true,
    get() {
      if (parsedOnce) return parsed;
      parsedOnce = true;
      if (raw.length === 0) parsed = undefined;
      else if (type === "application/json") parsed = JSON.parse(raw.toString("utf8"));
      else if (type === "application/x-www-form-urlencoded")
        parsed = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
      else if (type.startsWith("text/")) parsed = raw.toString("utf8");
      else parsed = raw;
      return parsed;
    },
  });
  const send = (body: unknown) => {
    if (body === undefined || body === null) return res.end();
    if (typeof body === "string") {
      if (!res.hasHeader("content-type")) res.setHeader("content-type", "text/html; charset=utf-8");
      return res.end(body);
    }
    if (body instanceof Uint8Array) {
      if (!res.hasHeader("content-type")) res.setHeader("content-type", "application/octet-stream");
      return res.end(body);
    }
    if (!res.hasHeader("content-type")) res.setHeader("content-type", "application/json; charset=utf-8");
    return res.end(JSON.stringify(body));
  };
  Object.assign(res, {
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    send(body: unknown) {
      send(body);
      return res;
    },
    json(body: unknown) {
      if (!res.hasHeader("content-type")) res.setHeader("content-type", "application/json; charset=utf-8");
      res.end(JSON.stringify(body));
      return res;
    },
    redirect(statusOrUrl: number | string, url?: string) {
      const [status, location] =
        typeof statusOrUrl === "number" ? [statusOrUrl, url ?? "/"] : [307, statusOrUrl];
      res.statusCode = status;
      res.setHeader("location", location);
      res.end();
      return res;
    },
  });
}

function serveNode(handler: NodeHandler | null, server: Server | null): void {
  const target =
    server ??
    http.createServer(async (req, res) => {
      const id = typeof req.headers["x-vercel-id"] === "string" ? req.headers["x-vercel-id"] : "";
      await requestIds.run(id, async () => {
        try {
          if (withHelpers) await withNodeHelpers(req, res);
          await handler?.(req, res);
        } catch (error) {
          console.error(error);
          if (!res.headersSent) {
            res.statusCode = error instanceof SyntaxError ? 400 : 500;
            res.end(error instanceof SyntaxError ? "Invalid request body\n" : "Internal Server Error\n");
          } else res.end();
        }
      });
    });
  originalListen.call(target, socket, ready);
}

function ready(): void {
  process.stdout.write(`${READY}\n`);
}

// Asked to stop (idle, redeploy, shutdown): finish what runs, then go.
process.on("SIGTERM", () => {
  void Promise.allSettled([...pending]).then(() => process.exit(0));
});

const web = webHandlers();
if (web) serveWeb(web);
else if (captured.server) serveNode(null, captured.server);
else if (typeof exports === "function") serveNode(exports as NodeHandler, null);
else {
  console.error(
    "The function exports no handler: export a default function (req, res), HTTP method handlers (export function GET), or a default { fetch }.",
  );
  process.exit(1);
}

// An extra proxy process (PROXY_PROCESSES > 1): started by `serve` as `minivercel proxy-process` (hidden), it
// answers on the same port (SO_REUSEPORT: the kernel spreads connections over the processes, as nginx's workers
// share theirs). It serves static files itself, forwards what needs the function runtime to the first process
// (src/proxy/forward.ts), hears route changes and metric scrapes from it over IPC (src/roles-proxy-processes.ts),
// and exits when told to or when the first process is gone.

import type { Config } from "./config/config.ts";
import { openDeps } from "./deps.ts";
import { observe } from "./observe/http.ts";
import { guardStdio, routeConsole } from "./observe/log.ts";
import { socketForwarder } from "./proxy/forward.ts";
import { createProxy } from "./proxy/proxy.ts";
import type { FromFirst, ToFirst } from "./roles-proxy-processes.ts";
import { type RelayData, relayHandlers, withWebSockets } from "./runtime/websocket.ts";
import { httpFront } from "./tls/https.ts";

/** How often the process checks that the one that started it still runs (a SIGKILLed parent sends nothing). */
const ORPHAN_CHECK_MS = 1000;

export async function runProxyProcess(config: Config, socketPath: string): Promise<number> {
  const send = (message: ToFirst) => process.send?.(message);
  if (!process.send) {
    console.error("minivercel proxy-process: started by `serve` only (it needs the IPC channel)");
    return 2;
  }
  const parent = process.ppid;
  // Messages that arrive while the proxy reads its routes are kept and handled after: a route change in that
  // window must not wait for the next reconcile.
  const early: FromFirst[] = [];
  let handle = (message: FromFirst) => {
    early.push(message);
  };
  process.on("message", (message: FromFirst) => handle(message));
  // Route changes come from the first process over IPC, whatever bus it uses: this process's bus is in memory.
  const deps = await openDeps({ ...config, kafka: null });
  const log = deps.log.child({ pid: process.pid });
  routeConsole(log);
  guardStdio();
  let server: ReturnType<typeof Bun.serve<RelayData>> | null = null;
  const peer = (request: Request) => server?.requestIP(request)?.address ?? null;
  const proxy = await createProxy(
    { ...deps, log },
    {},
    {
      runtime: () => {
        throw new Error("an extra proxy process runs no functions: they are forwarded");
      },
      peer,
      // Plain HTTP only: the HTTPS listener is the first process's (docs/operations.md).
      secure: () => false,
      unbounded: (request) => server?.timeout(request, 0),
      forward: socketForwarder(socketPath, { peer, secure: () => false }),
    },
  );
  const front = config.https ? httpFront(() => config.https?.port ?? 443, deps.store.certificates) : null;
  const sitesFetch = observe(
    "proxy",
    front ?? ((request) => proxy.fetch(request)),
    { ...deps, log },
    {
      accessLog: config.proxy.accessLog,
      fields: (request, response) => proxy.accessFields(request, response),
      idsOnlyWhenLogged: true,
    },
  );
  server = Bun.serve<RelayData>({
    hostname: config.host,
    port: config.proxyPort,
    reusePort: true,
    maxRequestBodySize: config.functions.maxBodyMb * 1024 * 1024,
    ...(front ? { fetch: sitesFetch, websocket: relayHandlers } : withWebSockets(proxy, sitesFetch)),
    error: (error) => proxy.error(error),
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(orphan);
      // Stops listening at once; requests under way finish (the first process waits SHUTDOWN_TIMEOUT_SECONDS).
      await server?.stop();
      await proxy.stop();
      await deps.close();
    })();
    return stopping;
  };
  const orphan = setInterval(() => {
    if (process.ppid !== parent) {
      log.warn("the first proxy process is gone: exiting");
      void stop().then(() => process.exit(0));
    }
  }, ORPHAN_CHECK_MS);
  handle = (message) => {
    if (message.type === "bus") void deps.bus.publish(message.topic, message.key, message.value);
    else if (message.type === "metrics")
      void deps.metrics.registry
        .snapshot()
        .then((snapshot) => send({ type: "metrics", id: message.id, snapshot }));
  };
  for (const message of early.splice(0)) handle(message);
  const signalled = new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => resolve());
  });
  send({ type: "ready", pid: process.pid });
  await signalled;
  await stop();
  // The IPC channel would keep the process alive.
  process.disconnect?.();
  return 0;
}

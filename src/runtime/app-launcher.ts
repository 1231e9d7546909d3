// The app server launcher: runs inside an app's sandbox (as `bun app-launcher.ts`), starts the deployment's start
// command in its files (read-only), waits for it to listen on $PORT (the health check), then relays the runtime's
// connections from a Unix socket to that port, byte for byte, so HTTP, streams and WebSocket upgrades pass as they
// are. Self-contained on purpose: it is copied into the sandbox as one file, so it imports nothing of minivercel.
//
// Environment: MV_FUNCTION_DIR (the server's files), MV_APP_COMMAND (its start command, a shell line), MV_SOCKET
// (where to listen), PORT (where the app must listen, on the sandbox's own loopback). Ends with the app's own exit
// status when the app exits, so the runtime sees a crash as the instance's end.

import type { Socket } from "bun";

const READY = "@@minivercel-ready@@";
/** How often the port is tried while the app starts. */
const PROBE_MS = 50;

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`app launcher: ${name} is not set`);
  return value;
};

const socketPath = env("MV_SOCKET");
const dir = env("MV_FUNCTION_DIR");
const command = env("MV_APP_COMMAND");
const port = Number(env("PORT"));

// The app sees the project's variables and PORT, not the launcher's own.
const appEnv: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env))
  if (value !== undefined && !key.startsWith("MV_") && key !== "BUN_BE_BUN") appEnv[key] = value;

const app = Bun.spawn(["/bin/sh", "-c", command], {
  cwd: dir,
  env: appEnv,
  stdin: "ignore",
  stdout: "inherit",
  stderr: "inherit",
});

void app.exited.then((code) => {
  console.error(`app server exited with ${app.signalCode ? `signal ${app.signalCode}` : `code ${code}`}`);
  process.exit(typeof code === "number" && code !== 0 ? code : 1);
});

async function listening(): Promise<boolean> {
  try {
    const probe = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    probe.end();
    return true;
  } catch {
    return false;
  }
}

while (!(await listening())) await Bun.sleep(PROBE_MS);

interface Pair {
  upstream: Socket<Pair> | null;
  /** Bytes from the runtime that arrived before the app's connection opened, or while it was full. */
  toUpstream: Uint8Array[];
  downstream: Socket<Pair> | null;
  toDownstream: Uint8Array[];
}

/**
 * Writes what `socket` accepts now; keeps the rest in `queue` (sent on drain), so nothing is lost or reordered.
 * `data` is the chunk a `data` handler got: written as it is when nothing waits before it, copied (a Buffer's slice
 * would be a view) only if kept.
 */
function send(socket: Socket<Pair>, queue: Uint8Array[], data: Uint8Array | null): void {
  if (data && queue.length === 0) {
    const written = socket.write(data);
    if (written < data.byteLength) queue.push(new Uint8Array(data.subarray(Math.max(0, written))));
    return;
  }
  if (data) queue.push(new Uint8Array(data));
  while (queue.length > 0) {
    const next = queue[0] as Uint8Array;
    const written = socket.write(next);
    if (written === next.byteLength) queue.shift();
    else {
      queue[0] = next.subarray(Math.max(0, written));
      return;
    }
  }
}

Bun.listen<Pair>({
  unix: socketPath,
  socket: {
    open(downstream) {
      const pair: Pair = { upstream: null, toUpstream: [], downstream, toDownstream: [] };
      downstream.data = pair;
      Bun.connect<Pair>({
        hostname: "127.0.0.1",
        port,
        data: pair,
        socket: {
          open(upstream) {
            pair.upstream = upstream;
            send(upstream, pair.toUpstream, null);
          },
          data(_upstream, chunk) {
            if (pair.downstream) send(pair.downstream, pair.toDownstream, chunk);
          },
          drain(upstream) {
            send(upstream, pair.toUpstream, null);
          },
          close() {
            pair.downstream?.end();
          },
          error() {
            pair.downstream?.end();
          },
        },
      }).catch(() => downstream.end());
    },
    data(_downstream, chunk) {
      const pair = _downstream.data;
      if (pair.upstream) send(pair.upstream, pair.toUpstream, chunk);
      else pair.toUpstream.push(new Uint8Array(chunk));
    },
    drain(downstream) {
      send(downstream, downstream.data.toDownstream, null);
    },
    close(downstream) {
      downstream.data.upstream?.end();
    },
    error(downstream) {
      downstream.data.upstream?.end();
    },
  },
});

console.log(READY);

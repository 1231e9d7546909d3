// Config of the function runtime (src/runtime/): how long idle instances live, how long a start may take, and
// where functions run: in the proxy's own process, or on `functions` nodes (docs/scaling-out.md).

import { ConfigError } from "../errors.ts";
import { type Env, int, oneOf, url } from "./parse.ts";

export interface FunctionsConfig {
  /** An instance with no request for this long is stopped; the next request starts a new one (FUNCTION_IDLE_SECONDS). */
  idleSeconds: number;
  /** A start that has not answered within this long fails with 502 (FUNCTION_START_TIMEOUT_SECONDS). */
  startTimeoutSeconds: number;
  /** Memory of one app server instance, in MB (APP_MEMORY_MB, default 1024). */
  appMemoryMb: number;
  /** Processes and threads of one instance (FUNCTION_PIDS). */
  pids: number;
  /** Largest request body a function receives, in MB (FUNCTION_MAX_BODY_MB; Vercel's is 4.5). */
  maxBodyMb: number;
  /** Days runtime log lines are kept (FUNCTION_LOG_RETENTION_DAYS). */
  logRetentionDays: number;
  /**
   * Runtime output kept per deployment and process, in KB per minute, with bursts up to as much at once
   * (FUNCTION_LOG_KB_PER_MINUTE); past it lines are dropped and a note says how many.
   */
  logKbPerMinute: number;
  /**
   * Where a proxy runs functions (PROXY_FUNCTIONS): `local` (default) in its own process; `remote` on the
   * `functions` nodes that announce themselves on the bus (src/proxy/function-nodes.ts).
   */
  placement: "local" | "remote";
  /** The functions role's internal endpoint, where proxies send invocations (FUNCTIONS_PORT, default 8002). */
  port: number;
  /**
   * The URL proxies reach this functions node at (FUNCTIONS_ADVERTISED_URL); null: `http://<LISTEN_HOST or the
   * machine's host name>:<port>`.
   */
  advertisedUrl: string | null;
  /**
   * Instances this functions node runs before proxies send functions new to it elsewhere; also its share of the
   * functions against other nodes (FUNCTIONS_CAPACITY, default 64).
   */
  capacity: number;
}

export function parseFunctions(env: Env): FunctionsConfig {
  return {
    idleSeconds: int(env, "FUNCTION_IDLE_SECONDS", 300, 1, 24 * 3600),
    startTimeoutSeconds: int(env, "FUNCTION_START_TIMEOUT_SECONDS", 10, 1, 300),
    pids: int(env, "FUNCTION_PIDS", 256, 16, 65536),
    appMemoryMb: int(env, "APP_MEMORY_MB", 1024, 64, 65536),
    maxBodyMb: int(env, "FUNCTION_MAX_BODY_MB", 5, 1, 100),
    logRetentionDays: int(env, "FUNCTION_LOG_RETENTION_DAYS", 3, 1, 365),
    logKbPerMinute: int(env, "FUNCTION_LOG_KB_PER_MINUTE", 256, 1, 1024 * 1024),
    placement: oneOf(env, "PROXY_FUNCTIONS", ["local", "remote"], "local"),
    port: int(env, "FUNCTIONS_PORT", 8002, 0, 65535),
    advertisedUrl: origin(env, "FUNCTIONS_ADVERTISED_URL"),
    capacity: int(env, "FUNCTIONS_CAPACITY", 64, 1, 100_000),
  };
}

/** A URL that is only an origin (scheme, host, port): the node's routes are appended to it. */
function origin(env: Env, name: string): string | null {
  const value = url(env, name, ["http:", "https:"]);
  if (value === null) return null;
  const parsed = new URL(value);
  if (parsed.pathname !== "/" || parsed.search !== "" || parsed.hash !== "" || parsed.username !== "")
    throw new ConfigError(name, "must be only a scheme, host and port, like http://10.0.0.7:8002");
  return parsed.origin;
}

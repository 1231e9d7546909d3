// The CLI's API client: bearer token, JSON in and out, and every failure turned into one line with an exit
// code (2: the request was wrong, e.g. unknown project; 1: network, authentication or server failure).

/** A failure the CLI reports as `minivercel: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    /** A network failure or a server error: trying again may work. */
    readonly retryable = false,
    /** The server's Retry-After (429: over a rate limit), in milliseconds. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export interface Api {
  readonly url: string;
  /** JSON request; throws CliError on any failure. Returns null for 204. */
  json(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Raw request (uploads, streams); throws CliError on network failure or an error status. */
  send(
    method: string,
    path: string,
    init?: { body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The server's error message (`{"error": {"message"}}`); anything else is not the minivercel API. */
export async function failureOf(res: Response, url: string): Promise<CliError> {
  let message: string | null = null;
  try {
    const body: unknown = await res.json();
    if (isRecord(body) && isRecord(body.error) && typeof body.error.message === "string")
      message = body.error.message;
  } catch {
    // not JSON
  }
  if (res.status >= 500) return new CliError(`${url} failed: ${message ?? `HTTP ${res.status}`}`, 1, true);
  if (res.status === 429) {
    const seconds = Number(res.headers.get("retry-after"));
    const wait = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
    return new CliError(`${url}: ${message ?? "too many requests"}`, 1, true, wait);
  }
  if (message === null || (res.status === 404 && message === "no such route"))
    return new CliError(
      `${url} answered HTTP ${res.status}, not as the minivercel API: check the server URL`,
      1,
    );
  if (res.status === 401)
    return new CliError(`${url} refused the token (${message}): run 'minivercel login' again`, 1);
  if (res.status === 403) return new CliError(`not allowed: ${message}`, 1);
  return new CliError(message, 2);
}

function networkProblem(url: string, error: unknown): CliError {
  const code =
    typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
      ? error.code
      : null;
  const known: Record<string, string> = {
    ConnectionRefused: "connection refused",
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    ConnectionClosed: "the connection was closed",
    ECONNRESET: "the connection was reset",
  };
  const why = (code && known[code]) || (error instanceof Error ? error.message : code);
  return new CliError(`cannot reach ${url}: ${why ?? "network error"}`, 1, true);
}

/** `team`: the team's slug, sent on every request as x-minivercel-team (src/cli/team-scope.ts); null: personal. */
export function createApi(url: string, token: string, team: string | null = null): Api {
  const send: Api["send"] = async (method, path, init = {}) => {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(team && { "x-minivercel-team": team }),
          ...init.headers,
        },
        ...(init.body !== undefined && { body: init.body }),
      });
    } catch (error) {
      throw networkProblem(url, error);
    }
    if (!res.ok) throw await failureOf(res, url);
    return res;
  };
  return {
    url,
    send,
    async json(method, path, body) {
      const res = await send(method, path, {
        ...(body !== undefined && {
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
      });
      if (res.status === 204) return null;
      try {
        return (await res.json()) as unknown;
      } catch {
        throw new CliError(`${url} answered ${method} ${path} with something that is not JSON`, 1);
      }
    },
  };
}

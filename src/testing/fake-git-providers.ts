// Test support: local stand-ins for the GitHub, GitLab and Gitea REST APIs, written from each provider's published
// documentation (not from our client): they check every request's path, method, auth header form and JSON fields
// with their allowed values, answer with the provider's shapes and status codes, and record what was sent.
// `down` makes them answer 503, as a provider outage does; `refuse` gives every request one chosen answer.

import type { GitProviderKind } from "../store/git-reports.ts";

export interface FakeStatus {
  sha: string;
  state: string;
  context: string;
  targetUrl: string | null;
  description: string | null;
}
export interface FakeComment {
  id: number;
  body: string;
}

export interface FakeProvider {
  kind: GitProviderKind;
  /** The API base to configure: /api/v1 on Gitea, /api/v4 on GitLab, the root on GitHub. */
  apiUrl: string;
  token: string;
  statuses: FakeStatus[];
  /** Comments per pull/merge request number; another user's comment is seeded on each. */
  comments: Map<number, FakeComment[]>;
  /** Requests that broke the documented shape, in words (a test expects none). */
  problems: string[];
  /** Every request as "METHOD path". */
  requests: string[];
  down: boolean;
  /**
   * When set, every request gets this answer instead (as a provider's rate limit or refusal does): the status,
   * the provider's JSON `{ message }` and, for 429 and 503, an optional Retry-After header (seconds).
   */
  refuse: { status: number; message: string; retryAfter?: string } | null;
  /** Opens a pull/merge request from `branch`. */
  openRequest(number: number, branch: string): void;
  stop(): void;
}

/** The allowed commit status states, per each provider's documentation. */
const STATES: Record<GitProviderKind, string[]> = {
  github: ["error", "failure", "pending", "success"],
  gitlab: ["pending", "running", "success", "failed", "canceled", "skipped"],
  gitea: ["pending", "success", "error", "failure", "warning"],
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

type Body = Record<string, unknown>;

export function fakeGitProvider(kind: GitProviderKind, repository = "octo/site"): FakeProvider {
  const token = `tok_${kind}_${crypto.randomUUID().replaceAll("-", "")}`;
  const prs: { number: number; branch: string }[] = [];
  let nextId = 1000;
  const fake: Omit<FakeProvider, "apiUrl" | "stop"> = {
    kind,
    token,
    statuses: [],
    comments: new Map(),
    problems: [],
    requests: [],
    down: false,
    refuse: null,
    openRequest(number, branch) {
      prs.push({ number, branch });
      fake.comments.set(number, [{ id: nextId++, body: "Looks good to me (a reviewer)" }]);
    },
  };
  const problem = (status: number, message: string) => {
    fake.problems.push(message);
    return json(status, { message });
  };

  const authorized = (req: Request): boolean => {
    if (kind === "github") return req.headers.get("authorization") === `Bearer ${token}`;
    if (kind === "gitlab") return req.headers.get("private-token") === token;
    return req.headers.get("authorization") === `token ${token}`;
  };

  /** The repository's path prefix as each API names it (GitLab: the URL-encoded full path as :id). */
  const prefix =
    kind === "github"
      ? `/repos/${repository}`
      : kind === "gitlab"
        ? `/api/v4/projects/${encodeURIComponent(repository)}`
        : `/api/v1/repos/${repository}`;

  async function body(req: Request): Promise<Body | null> {
    if (!(req.headers.get("content-type") ?? "").startsWith("application/json")) return null;
    try {
      const parsed: unknown = await req.json();
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Body)
        : null;
    } catch {
      return null;
    }
  }

  const optionalText = (b: Body, key: string) =>
    b[key] === undefined || b[key] === null || typeof b[key] === "string";

  async function status(req: Request, sha: string): Promise<Response> {
    if (!/^[0-9a-f]{40}$/.test(sha)) return problem(422, `status for a malformed sha ${sha}`);
    const b = await body(req);
    if (!b) return problem(400, "status body is not JSON");
    const state = b.state;
    if (typeof state !== "string" || !STATES[kind].includes(state)) {
      return problem(
        kind === "gitlab" ? 400 : 422,
        `state ${String(state)} is not one of ${STATES[kind].join("|")}`,
      );
    }
    const nameKey = kind === "gitlab" ? "name" : "context";
    const known = [
      "state",
      "target_url",
      "description",
      nameKey,
      ...(kind === "gitlab" ? ["ref", "pipeline_id", "coverage"] : []),
    ];
    const unknown = Object.keys(b).filter((k) => !known.includes(k));
    if (unknown.length > 0) return problem(422, `unknown status fields ${unknown.join(",")}`);
    for (const key of ["target_url", "description", nameKey]) {
      if (!optionalText(b, key)) return problem(422, `${key} must be a string`);
    }
    if (typeof b.description === "string" && kind === "github" && b.description.length > 140) {
      return problem(422, "description is longer than 140 characters");
    }
    const context = String(b[nameKey] ?? "default");
    if (kind === "gitlab") {
      // GitLab refuses to move a status to the state it already has.
      const last = fake.statuses.filter((s) => s.sha === sha && s.context === context).at(-1);
      if (last?.state === state)
        return json(400, { message: `Cannot transition status via :${state} from :${state}` });
    }
    const entry: FakeStatus = {
      sha,
      state,
      context,
      targetUrl: typeof b.target_url === "string" ? b.target_url : null,
      description: typeof b.description === "string" ? b.description : null,
    };
    fake.statuses.push(entry);
    const id = nextId++;
    return kind === "gitlab"
      ? json(201, {
          id,
          sha,
          ref: null,
          status: state,
          name: context,
          target_url: entry.targetUrl,
          description: entry.description,
        })
      : json(201, {
          id,
          state,
          context,
          target_url: entry.targetUrl,
          description: entry.description,
          created_at: new Date().toISOString(),
        });
  }

  function page<T>(url: URL, items: T[]): T[] {
    const sizeKey = kind === "gitea" ? "limit" : "per_page";
    const size = Math.min(Number(url.searchParams.get(sizeKey) ?? (kind === "gitea" ? 30 : 30)), 100);
    const n = Math.max(Number(url.searchParams.get("page") ?? 1), 1);
    return items.slice((n - 1) * size, n * size);
  }

  function requests(url: URL): Response {
    if (kind === "gitlab") {
      if (url.searchParams.get("state") !== "opened")
        return problem(400, "merge_requests state must be opened");
      const branch = url.searchParams.get("source_branch");
      const list = prs.filter((p) => branch === null || p.branch === branch);
      return json(
        200,
        page(url, list).map((p) => ({
          iid: p.number,
          id: p.number + 50_000,
          state: "opened",
          source_branch: p.branch,
        })),
      );
    }
    if (url.searchParams.get("state") !== "open") return problem(422, "pulls state must be open");
    const head = url.searchParams.get("head");
    if (kind === "github" && head !== null && !/^[^:]+:.+$/.test(head))
      return problem(422, "head must be user:ref-name");
    const branch = head === null ? null : head.slice(head.indexOf(":") + 1);
    const list = prs.filter((p) => branch === null || p.branch === branch);
    return json(
      200,
      page(url, list).map((p) => ({
        number: p.number,
        state: "open",
        head: { ref: p.branch, label: `octo:${p.branch}` },
      })),
    );
  }

  async function comment(req: Request, url: URL, n: number, existing: number | null): Promise<Response> {
    const list = fake.comments.get(n);
    if (!list) return json(404, { message: "Not Found" });
    if (req.method === "GET" && existing === null)
      return json(
        200,
        page(url, list).map((c) => ({ ...c, ...(kind === "gitlab" && { system: false }) })),
      );
    const b = await body(req);
    if (!b || typeof b.body !== "string" || b.body.length === 0)
      return problem(kind === "gitlab" ? 400 : 422, "comment body is required");
    const unknown = Object.keys(b).filter((k) => k !== "body");
    if (unknown.length > 0) return problem(422, `unknown comment fields ${unknown.join(",")}`);
    if (existing === null) {
      const created = { id: nextId++, body: b.body };
      list.push(created);
      return json(201, created);
    }
    const found = list.find((c) => c.id === existing);
    if (!found) return json(404, { message: "Not Found" });
    found.body = b.body;
    return json(200, found);
  }

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    // The raw path: GitLab's :id is the URL-encoded project path and must stay encoded.
    const path = req.url.slice(url.origin.length).split("?")[0] ?? "";
    fake.requests.push(`${req.method} ${path}`);
    if (fake.down) return json(503, { message: "Service Unavailable" });
    if (fake.refuse) {
      const { status, message, retryAfter } = fake.refuse;
      const answer = json(status, { message });
      if (retryAfter !== undefined) answer.headers.set("retry-after", retryAfter);
      return answer;
    }
    if (kind === "github" && req.headers.get("accept") !== "application/vnd.github+json") {
      return problem(415, "GitHub requests should accept application/vnd.github+json");
    }
    if (!authorized(req)) return problem(401, `bad credentials (${kind} wants its own auth header form)`);
    if (!path.startsWith(prefix)) return problem(404, `not this repository's path: ${path}`);
    const rest = path.slice(prefix.length);
    const patchComment = (id: number) => {
      const n = [...fake.comments].find(([, list]) => list.some((c) => c.id === id))?.[0];
      return n === undefined ? json(404, { message: "Not Found" }) : comment(req, url, n, id);
    };
    type Route = [string[], RegExp, (hit: RegExpExecArray) => Promise<Response> | Response];
    const routes: Route[] = [[["POST"], /^\/statuses\/([^/]+)$/, (h) => status(req, h[1] ?? "")]];
    if (kind === "gitlab")
      routes.push(
        [["GET"], /^\/merge_requests$/, () => requests(url)],
        [["GET", "POST"], /^\/merge_requests\/(\d+)\/notes$/, (h) => comment(req, url, Number(h[1]), null)],
        [
          ["PUT"],
          /^\/merge_requests\/(\d+)\/notes\/(\d+)$/,
          (h) => comment(req, url, Number(h[1]), Number(h[2])),
        ],
      );
    else
      routes.push(
        [["GET"], /^\/pulls$/, () => requests(url)],
        [["GET", "POST"], /^\/issues\/(\d+)\/comments$/, (h) => comment(req, url, Number(h[1]), null)],
        [["PATCH"], /^\/issues\/comments\/(\d+)$/, (h) => patchComment(Number(h[1]))],
      );
    for (const [methods, pattern, handle] of routes) {
      const hit = pattern.exec(rest);
      if (hit && methods.includes(req.method)) return handle(hit);
    }
    return problem(404, `no such endpoint: ${req.method} ${path}`);
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: route });
  const origin = `http://127.0.0.1:${server.port}`;
  const apiUrl = kind === "github" ? origin : kind === "gitlab" ? `${origin}/api/v4` : `${origin}/api/v1`;
  return Object.assign(fake, { apiUrl, stop: () => server.stop(true) });
}

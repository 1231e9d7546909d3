// Push remotes over smart HTTP: /git/<subdomain>.git, API token as the Basic password, served by git http-backend.

import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allows, roleOn } from "../deploy/access.ts";
import { type Auditor, createAuditor } from "../deploy/audit.ts";
import type { Deps } from "../deps.ts";
import { hashSecret, TOKEN_PREFIX } from "../identity/accounts.ts";
import { clientAddress, type PeerAddress } from "../identity/client-address.ts";
import { mayPush } from "../identity/token-scope.ts";
import type { Project, TokenScope, User } from "../model/entities.ts";
import { requestIdOf } from "../observe/http.ts";
import type { Store } from "../store/store.ts";
import { deployPush, parseRefUpdates } from "./push.ts";
import { ensurePushRepo, gitEnv, gitRoot, PUSH_DIR_ENV, pushRepoUrl } from "./repos.ts";

type GitDeps = Pick<Deps, "store" | "config" | "log" | "live" | "bus" | "metrics" | "buildTokens"> & {
  /** Where a push's deployments are recorded, with the pusher's client address. */
  audit: Auditor;
};

/** The smart-protocol endpoints; the dumb protocol's file paths are not served. */
const ROUTE = /^\/git\/([a-z0-9-]{1,63})\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const SERVICES = new Set(["git-upload-pack", "git-receive-pack"]);
const HOOK_POLL_MS = 50;

export function isGitPath(url: string): boolean {
  return new URL(url).pathname.startsWith("/git/");
}

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain", ...headers } });

const challenge = () =>
  text(401, "authentication required: use an API token as the password", {
    "www-authenticate": 'Basic realm="minivercel"',
  });

/** The token and its owner from `Authorization: Basic <user:token>`; null when missing or not a live token. */
async function basicUser(store: Store, request: Request): Promise<{ user: User; scope: TokenScope } | null> {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.get("authorization")?.trim() ?? "");
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const password = decoded.slice(decoded.indexOf(":") + 1);
  if (!password.startsWith(TOKEN_PREFIX)) return null;
  const found = await store.tokens.use(hashSecret(password), new Date().toISOString());
  return found ? { user: found.user, scope: found.token.scope } : null;
}

/**
 * A remote builder's fetch (ECS): `Authorization: Bearer gt_...`, a token for one deployment that is building,
 * good for a few minutes, and only for the push repository of that deployment's project. The project, or null
 * (answered like a missing repository) for anything else.
 */
async function builderProject(deps: GitDeps, request: Request, subDomain: string): Promise<Project | null> {
  const bearer = /^Bearer\s+(gt_\S+)$/i.exec(request.headers.get("authorization")?.trim() ?? "")?.[1];
  const deploymentId = bearer ? deps.buildTokens.verifyFetch(bearer) : null;
  if (!deploymentId) return null;
  const deployment = await deps.store.deployments.find(deploymentId);
  if (deployment?.status !== "IN_PROGRESS") return null;
  const project = await deps.store.projects.find(deployment.projectId);
  if (project?.subDomain !== subDomain) return null;
  return project.gitUrl === pushRepoUrl(deps.config.dataDir, project.id) ? project : null;
}

/** The project with this subdomain among the user's: their personal ones, then their teams'. */
async function ownedProject(store: Store, userId: string, subDomain: string): Promise<Project | null> {
  const scopes = [null, ...(await store.teams.ofUser(userId)).map((team) => team.id)];
  for (const teamId of scopes) {
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<Store["projects"]["list"]>> = await store.projects.list(
        userId,
        { limit: 100, cursor },
        teamId,
      );
      const found = page.items.find((p) => p.subDomain === subDomain);
      if (found) return found;
      cursor = page.nextCursor;
    } while (cursor);
  }
  return null;
}

/** Splits a CGI response into its status, headers and the rest of the stream. */
async function cgiResponse(stdout: ReadableStream<Uint8Array>): Promise<Response> {
  const reader = stdout.getReader();
  let buffered = new Uint8Array(0);
  let end = -1;
  let sep = 0;
  while (end < 0) {
    const { value, done } = await reader.read();
    if (done) break;
    const next = new Uint8Array(buffered.length + value.length);
    next.set(buffered);
    next.set(value, buffered.length);
    buffered = next;
    const head = new TextDecoder("latin1").decode(buffered);
    const crlf = head.indexOf("\r\n\r\n");
    const lf = head.indexOf("\n\n");
    if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sep] = [crlf, 4];
    else if (lf >= 0) [end, sep] = [lf, 2];
  }
  if (end < 0) {
    reader.releaseLock();
    return text(502, "git http-backend gave no response");
  }
  const headers = new Headers();
  let status = 200;
  for (const line of new TextDecoder("latin1").decode(buffered.subarray(0, end)).split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(name, value);
  }
  const rest = buffered.subarray(end + sep);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length > 0) controller.enqueue(rest);
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}

async function pipeBody(body: ReadableStream<Uint8Array> | null, stdin: Bun.FileSink): Promise<void> {
  try {
    if (body) {
      for await (const chunk of body) {
        stdin.write(chunk);
        await stdin.flush();
      }
    }
  } catch {
    // The client went away or git stopped reading: git sees the end of its input and fails the request.
  } finally {
    await stdin.end();
  }
}

/** While a push runs: answers the post-receive hook (see repos.ts) with the deployments it queued. */
function answerHook(
  deps: GitDeps,
  dir: string,
  user: User,
  project: Project,
  exited: Promise<number>,
  request: Request,
): Promise<void> {
  const requestId = requestIdOf(request);
  const refs = join(dir, "refs");
  return (async () => {
    let running = true;
    void exited.then(() => {
      running = false;
    });
    while (running && !existsSync(refs)) await Bun.sleep(HOOK_POLL_MS);
    if (!existsSync(refs)) return;
    let lines: string[];
    try {
      const updates = parseRefUpdates(readFileSync(refs, "utf8"));
      const pushed = await deployPush(deps, deps.config, user.id, project, updates);
      lines = pushed.lines;
      // Only what deployed: a tag push, or a push to a project building from another repository, is not a deploy.
      if (pushed.queued.length > 0)
        await deps.audit.project(
          request,
          user,
          project,
          "deployment.create",
          `git push: ${pushed.queued.join(", ")}`,
        );
    } catch (error) {
      deps.log.error("git: could not deploy a push", { projectId: project.id, requestId, error });
      lines = ["minivercel: the push was stored but could not be deployed (see the server log)"];
    }
    writeFileSync(join(dir, "reply.tmp"), lines.map((l) => `${l}\n`).join(""));
    renameSync(join(dir, "reply.tmp"), join(dir, "reply"));
  })();
}

/** The handler for /git/*: authenticates, finds the caller's project and runs git http-backend for it. */
export function createGitBackend(
  base: Omit<GitDeps, "audit">,
  options: { peer?: PeerAddress } = {},
): (request: Request) => Promise<Response> {
  const audit = createAuditor(base.store, (request) =>
    clientAddress(request, options.peer, base.config.limits.trustProxyHops),
  );
  const deps: GitDeps = { ...base, audit };
  const { store } = deps;
  return async (request) => {
    const url = new URL(request.url);
    const route = ROUTE.exec(url.pathname);
    if (!route?.[1] || !route[2]) return text(404, "not found");
    const [subDomain, endpoint] = [route[1], route[2]];
    const service = endpoint === "info/refs" ? url.searchParams.get("service") : endpoint;
    if (!service || !SERVICES.has(service)) return text(404, "only the smart HTTP protocol is served");
    if (request.method !== (endpoint === "info/refs" ? "GET" : "POST"))
      return text(405, "method not allowed");
    if (!request.headers.has("authorization")) return challenge();
    if (/^Bearer\s/i.test(request.headers.get("authorization") ?? "")) {
      // A builder's fetch token reads; it never pushes.
      if (service !== "git-upload-pack") return text(403, "a build's fetch token cannot push");
      const project = await builderProject(deps, request, subDomain);
      if (!project) return text(404, "repository not found");
      return runBackend(deps, request, project, endpoint, service, null);
    }
    const caller = await basicUser(store, request);
    if (!caller) return challenge();
    const { user } = caller;
    // A push deploys: a read-only token may fetch, not push.
    if (service === "git-receive-pack" && !mayPush(caller.scope))
      return text(403, "this token is read-only (scope 'read'): pushing deploys, use a full or deploy token");
    // Another user's project looks exactly like a missing one.
    const project = await ownedProject(store, user.id, subDomain);
    if (!project) return text(404, "repository not found");
    // A push deploys: a team's viewers may fetch, not push (the lesser of the token's scope and the role).
    const role = await roleOn(store, user.id, project);
    if (service === "git-receive-pack" && (!role || !allows(role, "write")))
      return text(
        403,
        `your role on this project is ${role ?? "none"}: pushing deploys, which needs member or above`,
      );
    return runBackend(deps, request, project, endpoint, service, user);
  };
}

/** Runs git http-backend for one request on the project's repository; `user` is the pusher (null: fetch only). */
function runBackend(
  deps: GitDeps,
  request: Request,
  project: Project,
  endpoint: string,
  service: string,
  user: User | null,
): Promise<Response> {
  const { config } = deps;
  ensurePushRepo(config.dataDir, project.id, project.productionBranch);

  const pushing = endpoint === "git-receive-pack";
  const pushDir = pushing ? mkdtempSync(join(tmpdir(), "minivercel-push-")) : null;
  const env: Record<string, string> = {
    ...gitEnv(gitRoot(config.dataDir)),
    GIT_PROJECT_ROOT: gitRoot(config.dataDir),
    GIT_HTTP_EXPORT_ALL: "1",
    GIT_HTTP_MAX_REQUEST_BUFFER: "64M",
    PATH_INFO: `/${project.id}.git/${endpoint}`,
    QUERY_STRING: endpoint === "info/refs" ? `service=${service}` : "",
    REQUEST_METHOD: request.method,
    CONTENT_TYPE: request.headers.get("content-type") ?? "",
    // http-backend allows receive-pack only for an authenticated REMOTE_USER.
    ...(user && { REMOTE_USER: user.id }),
    ...(pushDir && { [PUSH_DIR_ENV]: pushDir }),
  };
  const length = request.headers.get("content-length");
  if (length && /^\d+$/.test(length)) env.CONTENT_LENGTH = length;
  // git clients gzip large requests; http-backend inflates them itself.
  const encoding = request.headers.get("content-encoding");
  if (encoding === "gzip" || encoding === "x-gzip") env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = request.headers.get("git-protocol");
  if (protocol && /^[A-Za-z0-9=:._-]{1,100}$/.test(protocol)) env.HTTP_GIT_PROTOCOL = protocol;

  const proc = Bun.spawn(["git", "http-backend"], {
    env,
    cwd: gitRoot(config.dataDir),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  void pipeBody(request.body, proc.stdin);
  void new Response(proc.stderr).text().then((err) => {
    if (err.trim()) {
      const requestId = requestIdOf(request);
      deps.log.warn("git http-backend", { projectId: project.id, requestId, stderr: err.trim() });
    }
  });
  if (pushDir && user) {
    const hook = answerHook(deps, pushDir, user, project, proc.exited, request);
    void Promise.all([hook, proc.exited]).finally(() => rmSync(pushDir, { recursive: true, force: true }));
  }
  return cgiResponse(proc.stdout);
}

// The control-plane API under /api: health, projects, deployments, tokens, and the OpenAPI document.

import { Elysia, t } from "elysia";
import { VERSION } from "../config/version.ts";
import { createAuditor } from "../deploy/audit.ts";
import type { Deps } from "../deps.ts";
import { MethodNotAllowed, RateLimited } from "../errors.ts";
import { clientAddress, type PeerAddress } from "../identity/client-address.ts";
import { requestIdOf } from "../observe/http.ts";
import type { AppServers } from "../runtime/app-status.ts";
import { buildsStatus } from "../worker/readiness.ts";
import { analyticsRoutes } from "./analytics.ts";
import { appRoutes } from "./apps.ts";
import { auditRoutes } from "./audit.ts";
import { bodyLimits } from "./body-limit.ts";
import { buildRoutes } from "./builds.ts";
import { cronRoutes } from "./crons.ts";
import { deploymentRoutes } from "./deployments.ts";
import { detectRoutes } from "./detect.ts";
import { apiDocs } from "./docs.ts";
import { domainRoutes } from "./domains.ts";
import { envRoutes } from "./env.ts";
import { toErrorResponse } from "./errors.ts";
import { gitProviderRoutes } from "./git-provider.ts";
import { hookRoutes } from "./hooks.ts";
import { invitationRoutes } from "./invitations.ts";
import { allowedMethods } from "./methods.ts";
import { projectRoutes } from "./projects.ts";
import { protectionRoutes } from "./protection.ts";
import { createRateLimiter, rateLimitHeaders } from "./rate-limit.ts";
import { runtimeLogRoutes } from "./runtime-logs.ts";
import { teamRoutes } from "./teams.ts";
import { tokenRoutes } from "./tokens.ts";
import { uploadRoutes } from "./uploads.ts";
import { webhookRoutes, webhookSettingRoutes } from "./webhooks.ts";

export type ApiDeps = Pick<
  Deps,
  | "config"
  | "store"
  | "logs"
  | "runtimeLogs"
  | "analytics"
  | "live"
  | "runtimeLive"
  | "bus"
  | "sealer"
  | "auth"
  | "artifacts"
  | "buildTokens"
  | "gc"
  | "log"
  | "metrics"
  | "runner"
>;

/** CORS for FRONTEND_URL only: the seed's separately hosted frontend calling the API with a bearer token. */
function cors(origin: string | null) {
  return new Elysia().onRequest(({ request, set }) => {
    if (!origin || request.headers.get("origin") !== origin) return;
    set.headers["access-control-allow-origin"] = origin;
    set.headers.vary = "Origin";
    if (request.method === "OPTIONS") {
      set.headers["access-control-allow-methods"] = "GET, POST, PATCH, DELETE, OPTIONS";
      set.headers["access-control-allow-headers"] = "authorization, content-type";
      set.headers["access-control-max-age"] = "600";
      return new Response(null, { status: 204, headers: set.headers as Record<string, string> });
    }
  });
}

const BuildsHealth = t.Object({
  ready: t.Union([t.Boolean(), t.Null()]),
  runner: t.Union([t.Literal("local"), t.Literal("ecs"), t.Null()]),
  sandbox: t.Union([t.Literal("bwrap"), t.Literal("none"), t.Null()]),
  problem: t.Union([t.String(), t.Null()]),
  fix: t.Union([t.String(), t.Null()]),
  message: t.String(),
});

export interface ApiOptions {
  /** The socket address of a request, for per-address rate limits (roles.ts: Bun's server.requestIP). */
  peer?: PeerAddress;
  /** The rate limiter's clock (tests move it instead of waiting). */
  now?: () => number;
  /**
   * The app servers as this process sees them: its own proxy's pool, or the functions nodes (src/roles.ts); absent
   * when it cannot see where they run.
   */
  apps?: AppServers;
}

export function createApi(api: ApiDeps, options: ApiOptions = {}) {
  // On PostgreSQL several api processes serve one installation: their budgets are shared through the store.
  const limiter = createRateLimiter(api.config.limits, {
    ...options,
    shared: api.config.store.kind === "postgres" ? api.store.rateBuckets : undefined,
  });
  // Every route group authenticates through this: each identified user then spends their own budget.
  // Audit log entries note the client address by the same rule as the rate limits.
  const audit = createAuditor(api.store, (request) =>
    clientAddress(request, options.peer, api.config.limits.trustProxyHops),
  );
  const deps = { ...api, auth: limiter.authenticator(api.auth), audit };
  // Known once every route is registered (below); a routing miss then tells 405 from 404.
  let allowed: (pathname: string) => string[] = () => [];
  const app = new Elysia({ prefix: "/api", normalize: false })
    .use(cors(deps.config.frontendUrl))
    .onError({ as: "global" }, ({ error: thrown, code, set, request }) => {
      const allow = code === "NOT_FOUND" ? allowed(new URL(request.url).pathname) : [];
      const error = allow.length > 0 ? new MethodNotAllowed(request.method, allow) : thrown;
      const { status, body } = toErrorResponse(error, code, (unhandled) =>
        deps.log.error("api: unhandled error", {
          requestId: requestIdOf(request),
          method: request.method,
          path: new URL(request.url).pathname,
          error: unhandled,
        }),
      );
      set.status = status;
      set.headers["content-type"] = "application/json";
      if (error instanceof RateLimited) Object.assign(set.headers, rateLimitHeaders(error));
      if (error instanceof MethodNotAllowed) set.headers.allow = error.allow.join(", ");
      return body;
    })
    .use(limiter.byAddress())
    .use(bodyLimits(deps.config.limits.maxUploadMb * 1024 * 1024))
    .use(
      apiDocs({
        info: {
          title: "minivercel API",
          description: "The control-plane API of a minivercel server.",
          version: VERSION,
        },
        components: {
          securitySchemes: {
            bearer: {
              type: "http",
              scheme: "bearer",
              description: "An API token (mv_...) or a JWT of a configured issuer.",
            },
            buildToken: {
              type: "http",
              scheme: "bearer",
              description: "A remote builder's token (bt_...): one deployment, only while it builds.",
            },
          },
        },
        security: [{ bearer: [] }],
      }),
    )
    .get(
      "/health",
      () => ({
        status: "ok" as const,
        version: VERSION,
        roles: deps.config.roles,
        builds: buildsStatus(deps.config, deps.runner),
      }),
      {
        response: t.Object({
          status: t.Literal("ok"),
          version: t.String(),
          roles: t.Array(t.String()),
          builds: BuildsHealth,
        }),
        detail: {
          summary: "Health check",
          description:
            "`status` says the server answers. `builds` says whether this process can run builds: `ready` false " +
            "with the `problem` and the `fix` to run on the server; null when it runs no builds (no worker role).",
          tags: ["health"],
          security: [],
        },
      },
    )
    .use(webhookRoutes(deps))
    .use(detectRoutes(deps))
    .use(projectRoutes(deps))
    .use(domainRoutes(deps))
    .use(protectionRoutes(deps))
    .use(deploymentRoutes(deps))
    .use(appRoutes(deps, options.apps))
    .use(runtimeLogRoutes(deps))
    .use(envRoutes(deps))
    .use(hookRoutes(deps))
    .use(gitProviderRoutes(deps))
    .use(analyticsRoutes(deps))
    .use(cronRoutes(deps))
    .use(buildRoutes(deps))
    .use(uploadRoutes(deps))
    .use(tokenRoutes(deps))
    .use(webhookSettingRoutes(deps))
    .use(teamRoutes(deps))
    .use(invitationRoutes(deps))
    .use(auditRoutes(deps));
  allowed = allowedMethods(app.routes);
  return app;
}

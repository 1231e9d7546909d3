// The dashboard: server-rendered pages with htmx, served by the api role for every path outside /api.

import { Elysia } from "elysia";
import { createAuditor } from "../deploy/audit.ts";
import type { Deps } from "../deps.ts";
import { clientAddress, type PeerAddress } from "../identity/client-address.ts";
import type { AppServers } from "../runtime/app-status.ts";
import { accountRoutes } from "./account.tsx";
import { analyticsRoutes } from "./analytics.tsx";
import { assetRoutes } from "./assets.ts";
import { auditRoutes } from "./audit.tsx";
import { dashboardBodyLimit } from "./body-limit.ts";
import { deploymentRoutes } from "./deployments.tsx";
import { dashboardError } from "./errors.tsx";
import { gitRoutes } from "./git.tsx";
import { projectRoutes } from "./projects.tsx";
import { protectionRoutes } from "./protection.tsx";
import { runtimeLogRoutes } from "./runtime-logs.tsx";
import { scopeRoutes } from "./scope.ts";
import { settingsRoutes } from "./settings.tsx";
import { signInRoutes } from "./sign-in.tsx";
import { invitationRoutes } from "./team-invitations.tsx";
import { teamRoutes } from "./teams.tsx";

// Every .tsx file names its JSX runtime (@jsxImportSource preact): Bun reads tsconfig.json from the working
// directory, so `bun /path/to/src/main.ts` run from elsewhere would otherwise look for React.

export type DashboardDeps = Pick<
  Deps,
  | "config"
  | "store"
  | "logs"
  | "runtimeLogs"
  | "analytics"
  | "live"
  | "sealer"
  | "artifacts"
  | "gc"
  | "bus"
  | "log"
  | "metrics"
  | "runner"
  | "accessTokens"
>;

export interface DashboardOptions {
  /** The socket address of a request, for sign-in throttling per address (roles.ts: Bun's server.requestIP). */
  peer?: PeerAddress;
  /** The sign-in throttle's clock (tests move it instead of waiting). */
  now?: () => number;
  /**
   * The app servers as this process sees them: its own proxy's pool, or the functions nodes (src/roles.ts); absent
   * when it cannot see where they run (their instances are then not shown, nor restarted, from this dashboard).
   */
  apps?: AppServers;
}

export function createDashboard(base: DashboardDeps, options: DashboardOptions = {}) {
  // Audit log entries note the client address by the same rule as the API's.
  const audit = createAuditor(base.store, (request) =>
    clientAddress(request, options.peer, base.config.limits.trustProxyHops),
  );
  const deps = { ...base, audit };
  return new Elysia()
    .onError({ as: "global" }, ({ error, code, request }) =>
      dashboardError(error, code, request, deps.log, deps.store),
    )
    .use(dashboardBodyLimit())
    .use(assetRoutes())
    .use(signInRoutes(deps, options.peer, options.now))
    .use(accountRoutes(deps))
    .use(scopeRoutes(deps))
    .use(projectRoutes(deps))
    .use(settingsRoutes(deps))
    .use(gitRoutes(deps))
    .use(analyticsRoutes(deps))
    .use(deploymentRoutes(deps, options.apps))
    .use(runtimeLogRoutes(deps))
    .use(protectionRoutes(deps))
    .use(teamRoutes(deps))
    .use(invitationRoutes(deps))
    .use(auditRoutes(deps));
}

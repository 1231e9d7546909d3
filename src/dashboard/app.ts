// The dashboard: server-rendered pages with htmx, served by the api role for every path outside /api.

import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import type { PeerAddress } from "../identity/client-address.ts";
import { accountRoutes } from "./account.tsx";
import { assetRoutes } from "./assets.ts";
import { dashboardBodyLimit } from "./body-limit.ts";
import { deploymentRoutes } from "./deployments.tsx";
import { dashboardError } from "./errors.tsx";
import { projectRoutes } from "./projects.tsx";
import { protectionRoutes } from "./protection.tsx";
import { runtimeLogRoutes } from "./runtime-logs.tsx";
import { settingsRoutes } from "./settings.tsx";
import { signInRoutes } from "./sign-in.tsx";

// Every .tsx file names its JSX runtime (@jsxImportSource preact): Bun reads tsconfig.json from the working
// directory, so `bun /path/to/src/main.ts` run from elsewhere would otherwise look for React.

export type DashboardDeps = Pick<
  Deps,
  | "config"
  | "store"
  | "logs"
  | "runtimeLogs"
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
}

export function createDashboard(deps: DashboardDeps, options: DashboardOptions = {}) {
  return new Elysia()
    .onError({ as: "global" }, ({ error, code, request }) => dashboardError(error, code, request, deps.log))
    .use(dashboardBodyLimit())
    .use(assetRoutes())
    .use(signInRoutes(deps, options.peer, options.now))
    .use(accountRoutes(deps))
    .use(projectRoutes(deps))
    .use(settingsRoutes(deps))
    .use(deploymentRoutes(deps))
    .use(runtimeLogRoutes(deps))
    .use(protectionRoutes(deps));
}

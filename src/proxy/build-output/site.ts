// Build Output routes: one deployment's router, as the proxy holds it. Built once from the deployment's parsed
// config.json and manifest; answers are memoized per (method, path, query) when no route reads headers, cookies
// or the host, the common case, so a repeated request costs a map lookup. The proxy and the function runtime
// (src/runtime/) turn the answers into responses; nothing here does I/O.

import type { Manifest } from "../../store/artifacts.ts";
import type { RouteAnswer, RouteRequest } from "./answer.ts";
import type { BuildOutputConfig, Cron } from "./config.ts";
import { createFilesystem, type DeploymentView } from "./filesystem.ts";
import { IMAGE_PATH, imageAnswer } from "./images.ts";
import { createRouter } from "./router.ts";

export interface BuildOutputSite {
  deploymentId: string;
  /** What answers `request`. Answers may be shared between requests: never mutate one. */
  route(request: RouteRequest): RouteAnswer;
  /** The config's cron jobs, for the runtime to schedule. */
  crons: Cron[];
}

/** Bound on memoized answers per deployment (the memo is emptied when it is full). */
const MAX_MEMO = 10_000;

/** The deployment's files and functions as routing sees them. */
export function viewOfManifest(manifest: Manifest): DeploymentView {
  const functions = Object.entries(manifest.functions ?? {});
  return {
    files: Object.keys(manifest.files),
    functions: functions.map(([path]) => path),
    prerendered: functions.filter(([, fn]) => fn.prerender !== undefined).map(([path]) => path),
  };
}

export function createBuildOutputSite(
  deploymentId: string,
  config: BuildOutputConfig,
  view: DeploymentView,
): BuildOutputSite {
  const router = createRouter(config, view);
  const images = config.images;
  const fs = images ? createFilesystem(view, config.overrides) : null;
  const memo = new Map<string, RouteAnswer>();

  function compute(request: RouteRequest): RouteAnswer {
    if (images && fs && request.path === IMAGE_PATH) return imageAnswer(images, request.query, fs);
    return router.route(request);
  }

  return {
    deploymentId,
    crons: config.crons ?? [],
    route(request) {
      if (router.readsRequestDetails) return compute(request);
      const key = `${request.method} ${request.path}?${request.query}`;
      const known = memo.get(key);
      if (known) return known;
      const answer = compute(request);
      if (memo.size >= MAX_MEMO) memo.clear();
      memo.set(key, answer);
      return answer;
    },
  };
}

// Build Output routes: Vercel's routing of a `.vercel/output` deployment, as a pure function of the config, the
// deployment's files and functions, and the request. Phases, in the order Vercel's proxy walks them:
//
//   routes before any handle -> filesystem check -> "filesystem" routes -> check -> "rewrite" routes -> check
//   -> "resource" routes -> check -> "miss" routes -> check -> "error" routes (404 or the status set);
//   "hit" routes add headers whenever a check finds something.
//
// Within a phase routes apply in order; one without `continue` ends its phase, and what it set (path, query,
// headers, status) carries on: SvelteKit's adapter relies on this (its /_app/immutable 404 route after
// `handle: filesystem` only runs because an earlier headers-only route did not stop routing, and its comment
// says that route's header sticks). A `check` rewrite looks its destination up at once (and tries the "rewrite"
// routes on it, as Vercel's docs say `check` does); when nothing is there routing goes on with the next route on
// the rewritten path, as Vercel's dev server does. A 3xx `status` with a Location (or a `dest`) redirects.
// "error" routes see the final status and only apply when theirs, if any, equals it.
// References: vercel/vercel packages/cli/src/util/dev/{server,router}.ts, cloudflare/next-on-pages'
// routes-matcher.ts, and the routes @vercel/next writes (packages/next/src/server-build.ts).

import { emptyPlan, type RouteAnswer, type RouteRequest } from "./answer.ts";
import type { BuildOutputConfig } from "./config.ts";
import { isHandle } from "./config-routes.ts";
import type { Phase } from "./config-schema.ts";
import { createFilesystem, type DeploymentView, type Filesystem, type Found } from "./filesystem.ts";
import { type CompiledRoute, compileRoute, matchRoute } from "./match.ts";
import { formatQuery } from "./query.ts";
import { encodePathText } from "./substitute.ts";
import { isRedirectStatus, MAX_MATCHES, MAX_REWRITES, Walk } from "./walk.ts";

type PhaseKey = Phase | "none";

const ORDINARY: PhaseKey[] = ["none", "filesystem", "rewrite", "resource"];

export interface BuildOutputRouter {
  route(request: RouteRequest): RouteAnswer;
  /** Whether answers depend on more than the method, path and query (headers, cookies, host): not memoizable. */
  readonly readsRequestDetails: boolean;
}

export function createRouter(config: BuildOutputConfig, view: DeploymentView): BuildOutputRouter {
  const fs: Filesystem = createFilesystem(view, config.overrides);
  const phases = new Map<PhaseKey, CompiledRoute[]>();
  let current: PhaseKey = "none";
  for (const route of config.routes) {
    if (isHandle(route)) current = route.handle;
    else phases.set(current, [...(phases.get(current) ?? []), compileRoute(route)]);
  }
  const readsRequestDetails = config.routes.some(
    (route) => !isHandle(route) && [...route.has, ...route.missing].some((c) => c.type !== "query"),
  );

  const fail = (reason: string): RouteAnswer => ({
    kind: "status",
    status: 500,
    reason,
    response: emptyPlan(),
  });

  /** The answer for what the filesystem found, after the "hit" routes added their headers. */
  function hit(found: Found, w: Walk): RouteAnswer {
    for (const compiled of phases.get("hit") ?? []) {
      const captures = matchRoute(compiled, w.method, w.path, w.query, w.facts);
      if (!captures) continue;
      w.applyEffects(compiled.route, captures, true);
      if (!compiled.route.continue) break;
    }
    if (found.kind === "static") {
      return {
        kind: "static",
        file: found.file,
        ...(found.contentType && { contentType: found.contentType }),
        status: w.status ?? 200,
        response: w.plan(),
      };
    }
    return {
      kind: "function",
      name: found.name,
      prerendered: found.prerendered,
      path: w.functionPath ?? encodePathText(w.originalPath),
      query: formatQuery(w.query),
      ...(w.status !== undefined && { status: w.status }),
      requestHeaders: w.requestTransforms,
      response: w.plan(),
    };
  }

  const found = (w: Walk): RouteAnswer | null => {
    const target = fs.lookup(w.path);
    return target ? hit(target, w) : null;
  };

  /** Runs one phase's routes; an answer when routing is decided (a redirect, a found check), else null. */
  function runPhase(phase: PhaseKey, w: Walk): RouteAnswer | null {
    const keepExisting = phase === "hit" || phase === "miss";
    for (const compiled of phases.get(phase) ?? []) {
      if (++w.matches > MAX_MATCHES) return fail("routing took too many steps");
      const captures = matchRoute(compiled, w.method, w.path, w.query, w.facts);
      if (!captures) continue;
      const { route } = compiled;
      const pathBefore = w.path;
      w.applyEffects(route, captures, keepExisting);
      w.applyDest(route, captures);
      if (w.rewrites > MAX_REWRITES) return fail("routing rewrote the path too many times");
      if (w.external !== undefined)
        return fail(`a rewrite to another origin (${w.external}) is not supported`);
      if (route.continue) continue;
      if (isRedirectStatus(w.status) && w.location !== undefined) return redirect(w);
      if (route.check && route.dest !== undefined) {
        const there = checkDestination(phase, w, pathBefore);
        if (there) return there;
        // With a status, a missing destination ends the phase with that status (the dev server's exit_with_status).
        if (route.status === undefined) continue;
      }
      return null;
    }
    // A `continue` route may have set a redirect that no later route replaced.
    if (isRedirectStatus(w.status) && w.location !== undefined) return redirect(w);
    return null;
  }

  /** After a `check` rewrite: the destination, else what the "rewrite" routes make of it (a probe, undone). */
  function checkDestination(phase: PhaseKey, w: Walk, pathBefore: string): RouteAnswer | null {
    // In "miss", finding the destination also drops a 404 set earlier (next-on-pages does the same for Next.js).
    const recovered = phase === "miss" && w.status === 404;
    const there = fs.lookup(w.path);
    if (there) {
      if (recovered) w.status = undefined;
      return hit(there, w);
    }
    if (phase === "rewrite" || w.path === pathBefore) return null;
    const undo = w.snapshot();
    const probed = runPhase("rewrite", w) ?? found(w);
    if (probed) return probed;
    undo();
    return null;
  }

  function redirect(w: Walk): RouteAnswer {
    const { location = "/", status = 308 } = w;
    return { kind: "redirect", status, location, response: w.plan() };
  }

  /** Nothing answered: the "error" routes may name a page for the status; else the bare status. */
  function error(w: Walk): RouteAnswer {
    const status = w.status !== undefined && w.status >= 400 ? w.status : 404;
    w.status = status;
    for (const compiled of phases.get("error") ?? []) {
      if (compiled.route.status !== undefined && compiled.route.status !== status) continue;
      const captures = matchRoute(compiled, w.method, w.path, w.query, w.facts);
      if (!captures) continue;
      w.applyEffects(compiled.route, captures, false);
      w.status = compiled.route.status ?? status;
      if (compiled.route.dest !== undefined) {
        w.applyDest(compiled.route, captures);
        const target = w.external === undefined ? fs.lookup(w.path) : null;
        if (target) return hit(target, w);
      }
      if (!compiled.route.continue) break;
    }
    return { kind: "status", status: w.status, response: w.plan() };
  }

  function route(request: RouteRequest): RouteAnswer {
    const w = new Walk(request);
    for (const phase of [...ORDINARY, "miss" as const]) {
      const answer = runPhase(phase, w) ?? found(w);
      if (answer) return answer;
    }
    return error(w);
  }

  return { route, readsRequestDetails };
}

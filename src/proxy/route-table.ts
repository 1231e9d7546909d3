// Proxy: Host -> deployment, in memory. Projects' routes are loaded at start, reloaded per project on every
// `route-changes` message (each proxy process consumes them in a group of its own, so all of them see every
// change) and reconciled in full periodically, in case a message was missed. Deployment and branch hosts are
// looked up in the store on first use and cached per project for a short time; a route change clears them.
// A project's host that has no production yet is re-read from the store when asked for (at most once per
// `recheckMissingMs`), so a first deployment is served the moment the store says READY, not when its
// announcement arrives a moment later (or at the next reconcile, if it was lost); a request for it while a reload
// of the project is under way waits for that reload.

import { parseRouteChange } from "../../schema/events.ts";
import type { Subscription } from "../bus/bus.ts";
import type { Deps } from "../deps.ts";
import { DEFAULT_REDIRECT_STATUS, type RedirectStatus, type RouteDomain } from "../model/domains.ts";
import type { ProjectRoute } from "../model/entities.ts";
import type { HostKind } from "../model/protection.ts";
import { parseHost } from "../model/urls.ts";
import type { AccessRule } from "../store/protection.ts";

export type Route =
  /** `what`: the kind of address; `access`: the project's protection rules, null when it is not protected. */
  | { kind: "site"; project: ProjectRoute; deploymentId: string; what: HostKind; access: AccessRule | null }
  /** The host names a project, but nothing READY is there (`what` says which kind of address). */
  | { kind: "missing"; what: "production" | "deployment" | "branch" }
  /** A verified custom domain that redirects to another domain of its project (path and query kept). */
  | { kind: "redirect"; project: ProjectRoute; to: string; status: RedirectStatus }
  | { kind: "unknown" };

export interface RouteTableOptions {
  /** Full reload of every project's routes, in milliseconds. */
  reconcileMs: number;
  /** How long a deployment or branch host lookup is trusted without a route change, in milliseconds. */
  lookupTtlMs: number;
  /**
   * How long a project's "nothing in production" is trusted before a request for it re-reads the project from the
   * store, in milliseconds.
   */
  recheckMissingMs: number;
  /**
   * Readies a project's new production deployment before its hosts switch to it (an app server is started and
   * healthy first); the switch waits for it, and happens anyway when it fails.
   */
  warm?: (route: ProjectRoute) => Promise<void>;
}

export interface RouteTable {
  /** Synchronous when everything needed is in memory (the common case). */
  lookup(host: string): Route | Promise<Route>;
  /** Re-reads every project's routes now. */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

interface Cached {
  expires: number;
  value: string | null | Promise<string | null>;
}

interface Entry {
  route: ProjectRoute;
  /** Protection (src/proxy/protection.ts): loaded and replaced with the routes, by the same announcements. */
  access: AccessRule | null;
  /** Deployment and branch hosts: "d:<hostId>" / "b:<slug>:<truncated>" -> deployment id. */
  lookups: Map<string, Cached>;
  /** When the route was last read from the store (performance.now()), or a re-read of it last started. */
  readAt: number;
}

const MAX_LOOKUPS_PER_PROJECT = 1024;
const HOST_ID = /^[0-9a-f]{12}$/;
const SLUG = /^[a-z0-9-]{1,63}$/;

const sameDomains = (a: RouteDomain[], b: RouteDomain[]) =>
  a.length === b.length &&
  a.every(
    (d, i) =>
      d.name === b[i]?.name && d.redirectTo === b[i]?.redirectTo && d.redirectStatus === b[i]?.redirectStatus,
  );

const sameRoute = (a: ProjectRoute, b: ProjectRoute) =>
  a.subDomain === b.subDomain &&
  sameDomains(a.domains, b.domains) &&
  a.productionDeploymentId === b.productionDeploymentId &&
  a.spaFallback === b.spaFallback;

export async function openRouteTable(
  deps: Pick<Deps, "store" | "bus" | "config" | "log">,
  options: RouteTableOptions,
): Promise<RouteTable> {
  const { store, bus, config, log } = deps;
  const byId = new Map<string, Entry>();
  const bySub = new Map<string, Entry>();
  /** Verified custom domains (the store keeps them in lower case) -> their project and how they answer. */
  const byDomain = new Map<string, { entry: Entry; domain: RouteDomain }>();
  // Every read of the store takes a ticket first; a project's state is replaced only by a read that started
  // later than the one applied, so a slow reconcile cannot undo a newer route change (and vice versa).
  let nextTicket = 0;
  const applied = new Map<string, number>();

  function unindex(entry: Entry) {
    if (bySub.get(entry.route.subDomain) === entry) bySub.delete(entry.route.subDomain);
    for (const { name } of entry.route.domains)
      if (byDomain.get(name)?.entry === entry) byDomain.delete(name);
  }

  // Production and custom-domain answers by host, valid until the next change of any route.
  const answered = new Map<string, Route>();

  function apply(
    ticket: number,
    id: string,
    route: ProjectRoute | null,
    access: AccessRule | null,
    keepLookups: boolean,
  ) {
    if ((applied.get(id) ?? -1) > ticket) return;
    applied.set(id, ticket);
    answered.clear();
    const current = byId.get(id);
    if (current) unindex(current);
    if (route === null) {
      byId.delete(id);
      return;
    }
    const reuse = current && keepLookups && sameRoute(current.route, route);
    const entry: Entry = {
      route,
      access,
      lookups: reuse ? current.lookups : new Map(),
      readAt: performance.now(),
    };
    byId.set(id, entry);
    bySub.set(route.subDomain, entry);
    // Routes carry only verified domains: one is served once its owner proved control of it (src/deploy/domains.ts).
    for (const domain of route.domains) byDomain.set(domain.name, { entry, domain });
  }

  async function reconcile() {
    const ticket = ++nextTicket;
    const [routes, rules] = await Promise.all([store.projects.routes(), store.protection.access()]);
    const access = new Map(rules.map((rule) => [rule.projectId, rule]));
    const seen = new Set<string>();
    for (const route of routes) {
      seen.add(route.id);
      apply(ticket, route.id, route, access.get(route.id) ?? null, true);
    }
    for (const id of [...byId.keys()]) if (!seen.has(id)) apply(ticket, id, null, null, false);
  }

  /** Reloads under way, by project id: a request for a project without production waits for its reload. */
  const reloading = new Map<string, Promise<void>>();

  /** Re-reads one project's routes (an announcement, or a request for a project without production). */
  function reload(projectId: string): Promise<void> {
    const run = reloadNow(projectId);
    reloading.set(projectId, run);
    const forget = () => {
      if (reloading.get(projectId) === run) reloading.delete(projectId);
    };
    run.then(forget, forget);
    return run;
  }

  async function reloadNow(projectId: string) {
    const ticket = ++nextTicket;
    const [project, domains, rules] = await Promise.all([
      store.projects.find(projectId),
      store.domains.list(projectId),
      store.protection.access(projectId),
    ]);
    const route: ProjectRoute | null = project && {
      id: project.id,
      subDomain: project.subDomain,
      domains: domains
        .filter((d) => d.verifiedAt !== null)
        .map(({ name, redirectTo, redirectStatus }) => ({ name, redirectTo, redirectStatus })),
      productionDeploymentId: project.productionDeploymentId,
      spaFallback: project.spaFallback,
    };
    const before = byId.get(projectId)?.route.productionDeploymentId ?? null;
    if (route?.productionDeploymentId && route.productionDeploymentId !== before && options.warm)
      await options
        .warm(route)
        .catch((error: unknown) =>
          log.warn("could not ready the new production deployment", { projectId, error }),
        );
    // A change may concern previews or deployments too (a branch went READY): never keep cached lookups.
    apply(ticket, projectId, route, rules[0] ?? null, false);
  }

  /** A deployment id found in the store for a project's deployment or branch host, cached per project. */
  function cachedLookup(
    entry: Entry,
    key: string,
    find: () => Promise<string | null>,
  ): string | null | Promise<string | null> {
    const now = performance.now();
    const hit = entry.lookups.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (entry.lookups.size >= MAX_LOOKUPS_PER_PROJECT) entry.lookups.clear();
    const cached: Cached = { expires: now + options.lookupTtlMs, value: null };
    cached.value = find().then(
      (id) => {
        cached.value = id;
        return id;
      },
      (error: unknown) => {
        if (entry.lookups.get(key) === cached) entry.lookups.delete(key);
        throw error;
      },
    );
    entry.lookups.set(key, cached);
    return cached.value;
  }

  const toRoute = (entry: Entry, id: string | null, what: "deployment" | "branch"): Route =>
    id === null
      ? { kind: "missing", what }
      : { kind: "site", project: entry.route, deploymentId: id, what, access: entry.access };

  function production(entry: Entry | undefined): Route {
    if (!entry) return { kind: "unknown" };
    const id = entry.route.productionDeploymentId;
    return id === null
      ? { kind: "missing", what: "production" }
      : { kind: "site", project: entry.route, deploymentId: id, what: "production", access: entry.access };
  }

  function remember(host: string, route: Route): Route {
    if (answered.size >= 4096) answered.clear();
    answered.set(host, route);
    return route;
  }

  /**
   * A project's production (or custom domain) host: remembered until the next route change, except "nothing in
   * production", which is not remembered: the answer waits for a reload of the project under way (its
   * announcement arrived a moment ago) or, when the project was read longer than `recheckMissingMs` ago, asks the
   * store again.
   */
  function productionOf(host: string, entry: Entry | undefined, recheck: boolean): Route | Promise<Route> {
    const route = production(entry);
    if (route.kind !== "missing" || !entry) return remember(host, route);
    if (!recheck) return route;
    const id = entry.route.id;
    let pending = reloading.get(id);
    if (!pending) {
      if (performance.now() - entry.readAt < options.recheckMissingMs) return route;
      // Set before the read, so a store that fails or hangs is asked at most once per interval.
      entry.readAt = performance.now();
      pending = reload(id);
      pending.catch((error: unknown) =>
        log.warn("proxy: re-reading a project without production failed", { projectId: id, error }),
      );
    }
    const again = () => find(host, false);
    return pending.then(again, again);
  }

  function lookup(host: string): Route | Promise<Route> {
    return find(host, true);
  }

  function find(host: string, recheck: boolean): Route | Promise<Route> {
    const known = answered.get(host);
    if (known) return known;
    const target = parseHost(host, config.sitesDomain);
    switch (target.kind) {
      case "production":
        return productionOf(host, bySub.get(target.subDomain), recheck);
      case "custom": {
        const found = byDomain.get(target.host);
        const { redirectTo, redirectStatus } = found?.domain ?? { redirectTo: null, redirectStatus: null };
        // Only to a verified domain of the project (the route holds no other): until its target is verified, a
        // redirecting domain serves the site, so no visitor is sent to a host that answers nothing.
        if (found && redirectTo !== null && found.entry.route.domains.some((d) => d.name === redirectTo))
          return remember(host, {
            kind: "redirect",
            project: found.entry.route,
            to: redirectTo,
            status: redirectStatus ?? DEFAULT_REDIRECT_STATUS,
          });
        return productionOf(host, found?.entry, recheck);
      }
      case "deployment": {
        const entry = bySub.get(target.subDomain);
        if (!entry) return { kind: "unknown" };
        if (!HOST_ID.test(target.hostId)) return { kind: "missing", what: "deployment" };
        const found = cachedLookup(entry, `d:${target.hostId}`, async () => {
          const d = await store.deployments.findByHostId(entry.route.id, target.hostId);
          return d?.status === "READY" ? d.id : null;
        });
        return found instanceof Promise
          ? found.then((id) => toRoute(entry, id, "deployment"))
          : toRoute(entry, found, "deployment");
      }
      case "branch": {
        const entry = bySub.get(target.subDomain);
        if (!entry) return { kind: "unknown" };
        if (!SLUG.test(target.slug)) return { kind: "missing", what: "branch" };
        const found = cachedLookup(entry, `b:${target.slug}:${target.truncated}`, async () => {
          const d = await store.deployments.latestForBranch(entry.route.id, target.slug, target.truncated);
          return d?.status === "READY" ? d.id : null;
        });
        return found instanceof Promise
          ? found.then((id) => toRoute(entry, id, "branch"))
          : toRoute(entry, found, "branch");
      }
    }
  }

  await reconcile();
  const subscription: Subscription = await bus.consume(
    "route-changes",
    `proxy-${crypto.randomUUID()}`,
    async (value) => {
      const change = parseRouteChange(value);
      if (!change) {
        log.warn("proxy: ignored a malformed route-changes message");
        return;
      }
      try {
        await reload(change.projectId);
      } catch (error) {
        log.error("proxy: reloading a project's routes failed (reconcile will retry)", {
          projectId: change.projectId,
          error,
        });
      }
    },
    { transient: true },
  );
  let reconciling = false;
  const timer = setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    reconcile()
      .catch((error: unknown) =>
        log.error("proxy: route reconcile failed; serving the last known routes", { error }),
      )
      .finally(() => {
        reconciling = false;
      });
  }, options.reconcileMs);

  return {
    lookup,
    reconcile,
    async stop() {
      clearInterval(timer);
      await subscription.stop();
    },
  };
}

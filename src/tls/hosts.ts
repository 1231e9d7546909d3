// Automatic HTTPS, step 1: which host names may get a certificate. Only known ones: the dashboard host, a project's
// production subdomain, a READY deployment's or branch's host, each custom domain whose ownership was verified
// (serving or redirecting).
// Anything else gets no order, so nobody can make us spend the CA's rate limits on names we do not serve.

import type { HttpsConfig } from "../config/config.ts";
import type { Route } from "../proxy/route-table.ts";
import type { Store } from "../store/store.ts";

export interface HostPolicy {
  /** The certificate that covers `host`: its own, or the `*.<SITES_DOMAIN>` wildcard in dns-01 mode. */
  certName(host: string): string;
  /** True when `host` is one we serve, so a certificate may be ordered for it. */
  isKnown(host: string): Promise<boolean>;
  /** Certificates to hold at all times (ordered ahead of the first visitor, renewed ahead of expiry). */
  eagerNames(): Promise<string[]>;
}

const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A TLS server name as a host, or null when it cannot be one (IP literals, junk). */
export function hostOfServerName(servername: string): string | null {
  const host = servername.toLowerCase().replace(/\.$/, "");
  return HOST.test(host) && !/^[\d.]+$/.test(host) ? host : null;
}

export function createHostPolicy(deps: {
  https: HttpsConfig;
  /** Sites are `<label>.<sitesDomain>` (SITES_DOMAIN, default BASE_DOMAIN). */
  sitesDomain: string;
  store: Pick<Store, "projects">;
  /** The proxy's own routing (src/proxy/route-table.ts), so "known" means exactly "served". */
  route: (host: string) => Route | Promise<Route>;
  /** Whether this process answers for the dashboard host (api role here, or DASHBOARD_UPSTREAM). */
  dashboard: boolean;
}): HostPolicy {
  const { https, sitesDomain, store, route, dashboard } = deps;
  const suffix = `.${sitesDomain}`;
  const wildcard = `*${suffix}`;
  /** One label under the base domain: what the wildcard covers. */
  const underBase = (host: string) => host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".");
  const certName = (host: string) => (https.challenge === "dns-01" && underBase(host) ? wildcard : host);

  return {
    certName,
    async isKnown(host) {
      if (host === https.dashboardHost) return dashboard;
      const found = await route(host);
      // A production host of a project counts before its first deployment; other hosts only once READY. A
      // verified domain that redirects is served too (by its redirect).
      return (
        found.kind === "site" ||
        found.kind === "redirect" ||
        (found.kind === "missing" && found.what === "production")
      );
    },
    async eagerNames() {
      const names = new Set<string>();
      if (dashboard) names.add(certName(https.dashboardHost));
      if (https.challenge === "dns-01") names.add(wildcard);
      for (const project of await store.projects.routes()) {
        names.add(certName(`${project.subDomain}${suffix}`));
        // Routes carry verified domains only; a redirecting one needs its certificate as much as a serving one.
        for (const domain of project.domains) names.add(certName(domain.name));
      }
      return [...names].sort();
    },
  };
}

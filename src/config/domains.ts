// Config of host names: BASE_DOMAIN, custom domain verification, and automatic HTTPS by ACME
// (CA directory, DNS-01 providers, the dashboard's host).

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { type Env, int, list, oneOf, required, text, url } from "./parse.ts";

/** Custom domain ownership checks (src/deploy/domains.ts). */
export interface DomainsConfig {
  /** dns: a domain is served (and gets a certificate) once its TXT record checks out; off: as soon as it is saved. */
  verification: "dns" | "off";
  /** DNS servers (ip or ip:port) for the TXT lookups; empty: the system's resolvers (DNS_RESOLVERS). */
  resolvers: string[];
}

/** Where DNS-01 challenge records go (ACME_DNS_PROVIDER): lego's generic httpreq protocol, or Cloudflare. */
export type DnsConfig =
  | { kind: "httpreq"; url: string; username: string | null; password: string | null }
  | { kind: "cloudflare"; apiToken: string; zoneId: string | null; apiUrl: string };

/** Automatic HTTPS by ACME (src/tls/); present only when ACME_DIRECTORY_URL is set. */
export interface HttpsConfig {
  /** The CA's ACME directory, e.g. Let's Encrypt's https://acme-v02.api.letsencrypt.org/directory. */
  directoryUrl: string;
  /** The ACME account's contact address (ACME_EMAIL): the CA writes here about expiring certificates. */
  email: string;
  /** Port of the HTTPS listener of proxy processes (HTTPS_PORT, default 443). */
  port: number;
  /** PEM file of a CA that the ACME directory's own TLS is trusted with (ACME_CA_FILE; Pebble, private CAs). */
  caFile: string | null;
  /** A certificate is renewed once it expires within this many days (ACME_RENEW_DAYS, default 30). */
  renewDays: number;
  /** http-01: one certificate per host; dns-01: one `*.<BASE_DOMAIN>` wildcard through `dns` (ACME_CHALLENGE). */
  challenge: "http-01" | "dns-01";
  dns: DnsConfig | null;
  /** Wait after publishing a DNS-01 record, for it to reach every name server (ACME_DNS_WAIT_SECONDS). */
  dnsWaitSeconds: number;
  /** The dashboard's and API's public host name (DASHBOARD_HOST, default dashboard.<BASE_DOMAIN>). */
  dashboardHost: string;
  /** Where a proxy process without the api role forwards the dashboard host (DASHBOARD_UPSTREAM). */
  dashboardUpstream: string | null;
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseBaseDomain(env: Env): string {
  const value = (text(env, "BASE_DOMAIN") ?? "localhost").toLowerCase().replace(/\.$/, "");
  if (!value.split(".").every((label) => HOST_LABEL.test(label))) {
    throw new ConfigError("BASE_DOMAIN", `'${value}' is not a valid domain name`);
  }
  return value;
}

/**
 * SITES_DOMAIN: where sites are served (`<sub>.<SITES_DOMAIN>`), default BASE_DOMAIN. A registrable domain of its
 * own (as vercel.app and netlify.app are) keeps sites from planting cookies for the dashboard's domain.
 */
export function parseSitesDomain(env: Env, base: string): string {
  const value = (text(env, "SITES_DOMAIN") ?? base).toLowerCase().replace(/\.$/, "");
  if (!value.split(".").every((label) => HOST_LABEL.test(label))) {
    throw new ConfigError("SITES_DOMAIN", `'${value}' is not a valid domain name`);
  }
  return value;
}

export function parseDomains(env: Env): DomainsConfig {
  return {
    verification: oneOf(env, "DOMAIN_VERIFICATION", ["dns", "off"], "dns"),
    resolvers: resolvers(env),
  };
}

function resolvers(env: Env): string[] {
  const servers = list(env, "DNS_RESOLVERS");
  for (const server of servers) {
    const ipv4 = /^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/;
    const ipv6 = /^(\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;
    if (!ipv4.test(server) && !ipv6.test(server))
      throw new ConfigError("DNS_RESOLVERS", `'${server}' is not an IP address with an optional :port`);
  }
  return servers;
}

function dnsProvider(env: Env): DnsConfig | null {
  const kind = text(env, "ACME_DNS_PROVIDER");
  if (kind === null) return null;
  switch (oneOf(env, "ACME_DNS_PROVIDER", ["httpreq", "cloudflare"], "httpreq")) {
    case "httpreq": {
      const username = text(env, "ACME_DNS_HTTPREQ_USERNAME");
      const password = text(env, "ACME_DNS_HTTPREQ_PASSWORD");
      if ((username === null) !== (password === null))
        throw new ConfigError(
          "ACME_DNS_HTTPREQ_USERNAME",
          "set both it and ACME_DNS_HTTPREQ_PASSWORD, or neither",
        );
      const endpoint =
        url(env, "ACME_DNS_HTTPREQ_URL", ["http:", "https:"]) ??
        required(env, "ACME_DNS_HTTPREQ_URL", "ACME_DNS_PROVIDER is httpreq");
      return { kind: "httpreq", url: endpoint, username, password };
    }
    case "cloudflare":
      return {
        kind: "cloudflare",
        apiToken: required(env, "CLOUDFLARE_API_TOKEN", "ACME_DNS_PROVIDER is cloudflare"),
        zoneId: text(env, "CLOUDFLARE_ZONE_ID"),
        apiUrl: url(env, "CLOUDFLARE_API_URL", ["https:", "http:"]) ?? "https://api.cloudflare.com/client/v4",
      };
  }
}

export function parseHttps(env: Env, base: string, sites = base): HttpsConfig | null {
  const directoryUrl = url(env, "ACME_DIRECTORY_URL", ["https:"]);
  if (directoryUrl === null) return null;
  // Certificates are for names the public CA can reach; "localhost" (the default) has none.
  for (const [name, value] of [
    ["BASE_DOMAIN", base],
    ["SITES_DOMAIN", sites],
  ] as const) {
    if (!value.includes("."))
      throw new ConfigError(
        name,
        `must be a public domain name when ACME_DIRECTORY_URL is set, got '${value}'`,
      );
  }
  const email = required(env, "ACME_EMAIL", "ACME_DIRECTORY_URL is set");
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
    throw new ConfigError("ACME_EMAIL", `'${email}' is not an email address`);
  const caFile = text(env, "ACME_CA_FILE");
  if (caFile !== null) {
    try {
      accessSync(caFile, constants.R_OK);
    } catch {
      throw new ConfigError("ACME_CA_FILE", `cannot read '${caFile}'`);
    }
  }
  const challenge = oneOf(env, "ACME_CHALLENGE", ["http-01", "dns-01"], "http-01");
  const dns = dnsProvider(env);
  if (challenge === "dns-01" && dns === null)
    throw new ConfigError(
      "ACME_DNS_PROVIDER",
      "is required when ACME_CHALLENGE is dns-01 (httpreq or cloudflare)",
    );
  const dashboardHost = (text(env, "DASHBOARD_HOST") ?? `dashboard.${base}`).toLowerCase().replace(/\.$/, "");
  if (!dashboardHost.includes(".") || !dashboardHost.split(".").every((label) => HOST_LABEL.test(label)))
    throw new ConfigError("DASHBOARD_HOST", `'${dashboardHost}' is not a valid host name`);
  return {
    directoryUrl,
    email,
    port: int(env, "HTTPS_PORT", 443, 0, 65535),
    caFile: caFile === null ? null : resolve(caFile),
    renewDays: int(env, "ACME_RENEW_DAYS", 30, 1, 89),
    challenge,
    dns,
    dnsWaitSeconds: int(env, "ACME_DNS_WAIT_SECONDS", 20, 0, 600),
    dashboardHost,
    dashboardUpstream: url(env, "DASHBOARD_UPSTREAM", ["http:", "https:"]),
  };
}

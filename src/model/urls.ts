// The URL scheme, one DNS label per site under SITES_DOMAIN (default BASE_DOMAIN):
//   production        <sub>.<sites>
//   one deployment    <sub>--<12 hex of the deployment id>.<sites>     (immutable)
//   a branch preview  <sub>--git-<branch slug>.<sites>                 (its latest READY deployment)
// Subdomains never contain "--", so the first "--" always separates the project from the rest.

import type { Config } from "../config/config.ts";
import { branchSlug } from "./names.ts";

/** `https` is optional: with automatic HTTPS on (src/tls/), site URLs are https on HTTPS_PORT. */
type UrlConfig = Pick<Config, "sitesDomain" | "proxyPort"> & Partial<Pick<Config, "https">>;

const LABEL_MAX = 63;

/** The 12 hex characters of a deployment id used in its host name. */
export const deploymentHostId = (deploymentId: string): string =>
  deploymentId.replaceAll("-", "").slice(0, 12);

/** The branch part of a preview host, cut to fit one DNS label after "<sub>--git-". */
export function branchHostSlug(subDomain: string, branch: string): { slug: string; truncated: boolean } {
  const full = branchSlug(branch);
  const room = LABEL_MAX - subDomain.length - "--git-".length;
  if (full.length <= room) return { slug: full, truncated: false };
  return { slug: full.slice(0, room).replace(/-+$/, ""), truncated: true };
}

function origin(host: string, config: UrlConfig): string {
  if (config.https) return `https://${host}${config.https.port === 443 ? "" : `:${config.https.port}`}`;
  // Port 80 is implied; any other port (8001 by default) is part of the URL users click.
  const port = config.proxyPort === 80 ? "" : `:${config.proxyPort}`;
  return `http://${host}${port}`;
}

export function productionUrl(project: { subDomain: string }, config: UrlConfig): string {
  return origin(`${project.subDomain}.${config.sitesDomain}`, config);
}

export function deploymentUrl(
  project: { subDomain: string },
  deploymentId: string,
  config: UrlConfig,
): string {
  return origin(`${project.subDomain}--${deploymentHostId(deploymentId)}.${config.sitesDomain}`, config);
}

export function branchUrl(project: { subDomain: string }, branch: string, config: UrlConfig): string {
  return origin(
    `${project.subDomain}--git-${branchHostSlug(project.subDomain, branch).slug}.${config.sitesDomain}`,
    config,
  );
}

/** A project's custom domain as a site URL (served once its DNS check passed). */
export function customDomainUrl(domain: string, config: UrlConfig): string {
  return origin(domain, config);
}

/** What a request's Host names, before any lookup ("custom" when it is not under the sites domain). */
export type HostTarget =
  | { kind: "production"; subDomain: string }
  | { kind: "deployment"; subDomain: string; hostId: string }
  | { kind: "branch"; subDomain: string; slug: string; truncated: boolean }
  | { kind: "custom"; host: string };

export function parseHost(host: string, sitesDomain: string): HostTarget {
  const suffix = `.${sitesDomain}`;
  if (!host.endsWith(suffix)) return { kind: "custom", host };
  const label = host.slice(0, -suffix.length);
  if (label.includes(".")) return { kind: "custom", host };
  const sep = label.indexOf("--");
  if (sep < 0) return { kind: "production", subDomain: label };
  const subDomain = label.slice(0, sep);
  const rest = label.slice(sep + 2);
  if (rest.startsWith("git-")) {
    const slug = rest.slice(4);
    return { kind: "branch", subDomain, slug, truncated: label.length === LABEL_MAX };
  }
  return { kind: "deployment", subDomain, hostId: rest };
}

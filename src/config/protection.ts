// Config of deployment protection: the mode new projects get, and where proxies send visitors to sign in.

import { ConfigError } from "../errors.ts";
import type { HttpsConfig } from "./domains.ts";
import { type Env, oneOf, url } from "./parse.ts";

export interface ProtectionConfig {
  /**
   * The protection of a newly created project (DEPLOYMENT_PROTECTION_DEFAULT: none, previews or all; default
   * previews, as on Vercel). Projects created before keep theirs.
   */
  defaultMode: "none" | "previews" | "all";
  /**
   * The dashboard's public origin (DASHBOARD_URL), where a proxy redirects a visitor of a protected deployment to
   * sign in. Default: https://<DASHBOARD_HOST> with automatic HTTPS, else http://dashboard.<BASE_DOMAIN>:<PORT>.
   */
  dashboardUrl: string;
}

export function parseProtection(
  env: Env,
  base: { baseDomain: string; port: number; https: HttpsConfig | null },
): ProtectionConfig {
  const defaultMode = oneOf(env, "DEPLOYMENT_PROTECTION_DEFAULT", ["none", "previews", "all"], "previews");
  const given = url(env, "DASHBOARD_URL", ["http:", "https:"]);
  if (given !== null && given !== new URL(given).origin)
    throw new ConfigError("DASHBOARD_URL", "must be an origin only (scheme, host and port), without a path");
  const fallback = base.https
    ? `https://${base.https.dashboardHost}${base.https.port === 443 ? "" : `:${base.https.port}`}`
    : `http://dashboard.${base.baseDomain}${base.port === 80 ? "" : `:${base.port}`}`;
  return { defaultMode, dashboardUrl: given === null ? fallback : new URL(given).origin };
}

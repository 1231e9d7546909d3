// Automatic HTTPS, wiring: DNS provider -> ACME issuer -> host policy -> certificate manager -> HTTPS listener,
// started by a proxy process when ACME_DIRECTORY_URL is set (src/roles.ts).

import type { HttpsConfig } from "../config/config.ts";
import type { Deps } from "../deps.ts";
import type { Route } from "../proxy/route-table.ts";
import type { WebSocketRouter } from "../runtime/websocket.ts";
import { createAcmeIssuer } from "./acme.ts";
import { type CertManager, type CertManagerOptions, createCertManager } from "./certificates.ts";
import { openDnsProvider } from "./dns.ts";
import { createHostPolicy } from "./hosts.ts";
import { type HttpsListener, startHttpsListener } from "./https.ts";

type Handler = (request: Request) => Response | Promise<Response>;

export interface RunningTls extends HttpsListener {
  certs: CertManager;
}

export async function startTls(
  deps: Pick<Deps, "config" | "store" | "sealer" | "log">,
  https: HttpsConfig,
  parts: {
    /** The site proxy's handler and its routing (what counts as a known host). */
    sites: Handler;
    route: (host: string) => Route | Promise<Route>;
    /** Where sites' WebSocket requests go (app servers). */
    websockets?: WebSocketRouter;
    /** The dashboard and API when the api role runs in this process. */
    dashboard: Handler | null;
  },
  options: Partial<CertManagerOptions> = {},
): Promise<RunningTls> {
  const { config, store, sealer } = deps;
  const log = deps.log.child({ role: "tls" });
  const dns = https.dns ? openDnsProvider(https.dns, https.dnsWaitSeconds) : null;
  const issuer = createAcmeIssuer({ https, certificates: store.certificates, sealer, dns });
  const policy = createHostPolicy({
    https,
    sitesDomain: config.sitesDomain,
    store,
    route: parts.route,
    dashboard: parts.dashboard !== null || https.dashboardUpstream !== null,
  });
  const certs = createCertManager(
    { https, certificates: store.certificates, sealer, issuer, policy, log },
    options,
  );
  const listener = await startHttpsListener({
    https,
    host: config.host,
    certs,
    sites: parts.sites,
    ...(parts.websockets && { websockets: parts.websockets }),
    dashboard: parts.dashboard,
    log,
  });
  // The first pass orders what is missing; it runs in the background so that the process serves at once.
  certs.sync().catch((error: unknown) => log.error("tls: first certificate sync failed", { error }));
  return {
    ...listener,
    certs,
    async stop() {
      await listener.stop();
      await certs.stop();
    },
  };
}

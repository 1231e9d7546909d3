// Roles: start the servers the config asks for (api + dashboard, proxy; the worker arrives with builds).

import { createApi } from "./api/app.ts";
import type { Deps } from "./deps.ts";
import { createProxy } from "./serve/proxy.ts";

export interface Running {
  /** Where each server listens, for the start-up message and tests. */
  urls: { api?: string; proxy?: string };
  stop(): Promise<void>;
}

const MAX_API_BODY = 1024 * 1024;

export function startRoles(deps: Deps): Running {
  const { config } = deps;
  const servers: ReturnType<typeof Bun.serve>[] = [];
  const urls: Running["urls"] = {};
  if (config.roles.includes("api")) {
    const api = createApi(deps);
    const server = Bun.serve({
      hostname: config.host,
      port: config.port,
      maxRequestBodySize: MAX_API_BODY,
      fetch: (request) => api.handle(request),
    });
    servers.push(server);
    urls.api = `http://localhost:${server.port}`;
  }
  if (config.roles.includes("proxy")) {
    const proxy = createProxy(config);
    const server = Bun.serve({ hostname: config.host, port: config.proxyPort, fetch: proxy });
    servers.push(server);
    urls.proxy = `http://<project>.${config.baseDomain}:${server.port}`;
  }
  return {
    urls,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

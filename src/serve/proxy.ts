// The proxy role: answers requests for project hosts. Serving deployments arrives with the deploy pipeline.

import type { Config } from "../config.ts";

function page(status: number, title: string, detail: string): Response {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;margin:15vh auto;max-width:32rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}p{color:#555}</style></head><body><h1>${title}</h1><p>${detail}</p></body></html>`;
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

export function createProxy(config: Pick<Config, "baseDomain">): (request: Request) => Response {
  return (request) => {
    const host = (request.headers.get("host") ?? "").toLowerCase().replace(/:\d+$/, "");
    if (!/^[a-z0-9.-]{1,253}$/.test(host))
      return page(400, "Bad request", "The Host header is missing or malformed.");
    // Only static pages so far: nothing reflects the request back into the HTML.
    const underBase = host.endsWith(`.${config.baseDomain}`);
    return page(
      404,
      "Nothing deployed here",
      underBase
        ? "No deployment is being served at this address yet."
        : "This host is not a project of this minivercel server.",
    );
  };
}

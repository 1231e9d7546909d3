// The OpenAPI document (/api/openapi.json) and its browsable page (/api/docs), built on first request from the
// routes' schemas (step 1, @elysiajs/openapi), made plain (docs-schemas.ts) and complete (docs-responses.ts).
// @elysiajs/openapi's plugin module (with its bundled type generators) costs about 1 MB of memory in every
// process that evaluates it; only its small schema walker and page template are needed, loaded here on demand.

import { Elysia } from "elysia";
import type { OpenAPIV3 } from "openapi-types";
import { commonComponents, completePaths } from "./docs-responses.ts";
import { plainEach } from "./docs-schemas.ts";

/** OpenAPI fields beside the generated `paths`; `components.schemas` is merged with the generated ones. */
export interface ApiDocumentation {
  info: OpenAPIV3.InfoObject;
  components?: { securitySchemes?: Record<string, OpenAPIV3.SecuritySchemeObject> };
  security?: OpenAPIV3.SecurityRequirementObject[];
}

const OPENAPI_VERSION = "3.1.2";
const SCALAR_CDN = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@latest/dist/browser/standalone.min.js";

/** Serves `/openapi.json` and `/docs` under the parent's prefix, describing every route of the app it is used in. */
export function apiDocs(documentation: ApiDocumentation) {
  // Routes are all registered before the first request, so the document is built once.
  let document: Promise<unknown> | null = null;
  let page: Promise<string> | null = null;
  const docs = new Elysia();
  return docs
    .get(
      "/openapi.json",
      () => {
        document ??= import("@elysiajs/openapi/openapi").then(({ toOpenAPISchema }) => {
          // Once used, `docs` answers getGlobalRoutes() for the whole app (Elysia links a plugin to its parent).
          const { paths, components } = toOpenAPISchema(
            docs,
            undefined,
            undefined,
            undefined,
            OPENAPI_VERSION,
          );
          const common = commonComponents();
          return {
            ...documentation,
            openapi: OPENAPI_VERSION,
            paths: completePaths(plainEach(paths)),
            components: {
              ...documentation.components,
              schemas: { ...plainEach(components.schemas ?? {}), ...common.schemas },
              responses: common.responses,
            },
          };
        });
        return document;
      },
      { detail: { hide: true } },
    )
    .get(
      "/docs",
      async () => {
        page ??= import("@elysiajs/openapi/scalar").then(({ ScalarRender }) =>
          // The page loads the document from the relative URL, wherever the API is mounted.
          ScalarRender(documentation.info, {
            url: "openapi.json",
            version: "latest",
            cdn: SCALAR_CDN,
            _integration: "elysiajs",
          }),
        );
        return new Response(await page, { headers: { "content-type": "text/html; charset=utf8" } });
      },
      { detail: { hide: true } },
    );
}

// Test support for the Build Output router (src/proxy/build-output/): a site from a routes array and
// a list of files and functions, and a one-call way to route a URL.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RouteAnswer } from "../proxy/build-output/answer.ts";
import { parseBuildOutputConfig } from "../proxy/build-output/config.ts";
import type { DeploymentView } from "../proxy/build-output/filesystem.ts";
import { type BuildOutputSite, createBuildOutputSite } from "../proxy/build-output/site.ts";

export interface TestDeployment {
  routes?: unknown[];
  files?: string[];
  functions?: string[];
  prerendered?: string[];
  /** Other config.json fields (overrides, images...). */
  config?: Record<string, unknown>;
}

export function testSite({
  routes = [],
  files = [],
  functions = [],
  prerendered = [],
  config = {},
}: TestDeployment) {
  const parsed = parseBuildOutputConfig(JSON.stringify({ version: 3, routes, ...config }));
  if (!parsed.config) throw new Error(`config refused: ${JSON.stringify(parsed.problems)}`);
  const view: DeploymentView = { files, functions, prerendered };
  return createBuildOutputSite("test", parsed.config, view);
}

export interface TestRequest {
  method?: string;
  headers?: Record<string, string>;
  host?: string;
}

/** Routes `url` ("/path?query", the path already decoded as the proxy decodes it). */
export function go(site: BuildOutputSite, url: string, request: TestRequest = {}): RouteAnswer {
  const mark = url.indexOf("?");
  return site.route({
    method: request.method ?? "GET",
    path: mark < 0 ? url : url.slice(0, mark),
    query: mark < 0 ? "" : url.slice(mark + 1),
    headers: new Headers(request.headers ?? {}),
    host: request.host ?? "site.localhost",
  });
}

/** A short description of an answer, for tables: "static /a.html 200", "function /fn /x?q", "redirect 308 /b". */
export function brief(answer: RouteAnswer): string {
  switch (answer.kind) {
    case "static":
      return `static ${answer.file} ${answer.status}${answer.contentType ? ` ${answer.contentType}` : ""}`;
    case "function": {
      const status = answer.status === undefined ? "" : ` ${answer.status}`;
      return `function ${answer.name} ${answer.path}${answer.query ? `?${answer.query}` : ""}${status}`;
    }
    case "redirect":
      return `redirect ${answer.status} ${answer.location}`;
    case "status":
      return `status ${answer.status}${answer.reason ? ` (${answer.reason})` : ""}`;
  }
}

/**
 * The expected answers for the hand-written every-field config (proxy/build-output/fixtures/): URL, the brief()
 * of its answer, and how it is asked. The router's tests and the end-to-end ones through the proxy share them.
 */
export function everyFieldAnswers(): [string, string, TestRequest][] {
  const file = join(import.meta.dir, "..", "proxy", "build-output", "fixtures", "every-field.answers.json");
  const rows = JSON.parse(readFileSync(file, "utf8")) as [string, string, TestRequest?][];
  return rows.map(([url, expected, request]) => [url, expected, request ?? {}]);
}

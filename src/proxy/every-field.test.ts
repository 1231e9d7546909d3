// The hand-written config that uses every supported route field (build-output/fixtures/every-field.config.json)
// end to end: a repository whose .vercel/output holds it, with a static file and a real function for each path it
// names, built by the real builder in its sandbox, served by the real proxy, the functions run by the real
// runtime. The answers are the router's table (fixtures/every-field.answers.json), checked as HTTP responses; the
// functions cover every handler style: Node (req, res) with and without helpers, Web method exports,
// `export default { fetch }`, and an edge function.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { createRuntime } from "../runtime/runtime.ts";
import { everyFieldAnswers, type TestRequest } from "../testing/build-output.ts";
import { testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { request } from "../testing/sites.ts";
import { createProxy, type SiteProxy } from "./proxy.ts";

const FIXTURES = join(import.meta.dir, "build-output", "fixtures");
const CUSTOM_DOMAIN = "a.example.com";

let deps: Deps;
let roles: Running;
let proxy: SiteProxy;
let site = "";

const node = (helpers = true) =>
  JSON.stringify({
    runtime: "nodejs20.x",
    handler: "index.mjs",
    launcherType: "Nodejs",
    shouldAddHelpers: helpers,
  });

/** Every function answers with its own name and the path and query it was called with. */
const FUNCTIONS: Record<string, { config: string; files: Record<string, string> }> = {
  // Node, with Vercel's helpers: the parsed body.
  "/api/form": {
    config: node(),
    files: {
      "index.mjs": `export default function (req, res) {
        res.status(200).json({ fn: "/api/form", url: req.url, method: req.method, body: req.body ?? null });
      }`,
    },
  },
  // An edge function: a default function (request, context), named by .vc-config.json's entrypoint.
  "/api/where": {
    config: JSON.stringify({ runtime: "edge", entrypoint: "edge.js" }),
    files: {
      "edge.js": `export default function (request, context) {
        const url = new URL(request.url);
        context.waitUntil(Promise.resolve());
        return Response.json({ fn: "/api/where", url: url.pathname + url.search, edge: globalThis.EdgeRuntime });
      }`,
    },
  },
  // Web method exports; its own x-frame-options loses to an important route header.
  "/api/echo": {
    config: node(),
    files: {
      "index.mjs": `export function GET(request) {
        const url = new URL(request.url);
        return Response.json(
          {
            fn: "/api/echo",
            url: url.pathname + url.search,
            route: request.headers.get("x-echo-route"),
            edge: globalThis.EdgeRuntime ?? null,
          },
          { headers: { "x-frame-options": "SAMEORIGIN" } },
        );
      }`,
    },
  },
  // Prerendered (ISR), a default { fetch }.
  "/api/shop": {
    config: node(),
    files: {
      "index.mjs": `export default {
        fetch(request) {
          const url = new URL(request.url);
          return Response.json({ fn: "/api/shop", url: url.pathname + url.search });
        },
      };`,
    },
  },
  // Node without helpers: req.query is not there.
  "/api/user": {
    config: node(false),
    files: {
      "index.mjs": `export default function (req, res) {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ fn: "/api/user", url: req.url, helpers: "query" in req }));
      }`,
    },
  },
  "/api/cron": {
    config: node(),
    files: { "index.mjs": `export default (req, res) => res.json({ fn: "/api/cron", url: req.url });` },
  },
};

/** The repository: config.json as written, a file per listed static path saying its own name, the functions. */
function repository(): Record<string, string> {
  const listed = JSON.parse(readFileSync(join(FIXTURES, "every-field.files.json"), "utf8")) as {
    static: string[];
    functions: string[];
    prerendered: string[];
  };
  const out = ".vercel/output";
  const files: Record<string, string> = {
    [`${out}/config.json`]: readFileSync(join(FIXTURES, "every-field.config.json"), "utf8"),
  };
  for (const path of listed.static) files[`${out}/static${path}`] = `static ${path}`;
  expect(Object.keys(FUNCTIONS).sort()).toEqual([...listed.functions].sort());
  for (const [path, fn] of Object.entries(FUNCTIONS)) {
    files[`${out}/functions${path}.func/.vc-config.json`] = fn.config;
    for (const [name, source] of Object.entries(fn.files))
      files[`${out}/functions${path}.func/${name}`] = source;
  }
  for (const path of listed.prerendered) {
    files[`${out}/functions${path}.prerender-config.json`] = JSON.stringify({ expiration: 60 });
  }
  return files;
}

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", PROXY_PORT: "0", MINIVERCEL_ROLE: "api,worker" });
  roles = await startRoles(deps);
  const userId = (await testUser(deps)).user.id;
  proxy = await createProxy(deps, { reconcileMs: 60_000 }, { runtime: () => createRuntime(deps) });
  const project = await createProject(deps.store, deps.config, userId, {
    name: `every-${crypto.randomUUID().slice(0, 6)}`,
    gitUrl: fixtureRepo(repository()).url,
    customDomain: CUSTOM_DOMAIN,
  });
  await deps.store.projects.markDomainVerified(project.id, CUSTOM_DOMAIN);
  const { id } = await queueDeployment(deps, userId, { projectId: project.id });
  for (let i = 0; i < 1200; i++) {
    const d = await deps.store.deployments.find(id);
    if (d?.status === "FAIL") throw new Error(`build failed: ${d.statusReason}`);
    if (d?.status === "READY") break;
    await Bun.sleep(100);
  }
  await proxy.reconcile();
  site = productionUrl(project, deps.config);
}, 120_000);

afterAll(async () => {
  await proxy.stop();
  await roles.stop(1000);
  await deps.close();
}, 60_000);

async function ask(url: string, how: TestRequest = {}) {
  const base = how.host ? `http://${how.host}` : site;
  const res = await request(proxy, `${base}${url}`, {
    redirect: "manual",
    ...(how.method && { method: how.method }),
    headers: how.headers ?? {},
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

type Answer = Awaited<ReturnType<typeof ask>>;

/** The HTTP response `answer` must be for the router's `expected` (brief() of its answer). */
function expectAnswer(answer: Answer, expected: string): void {
  const what = `${expected}: got ${answer.status} ${answer.body.slice(0, 300)}`;
  let m = /^function (\S+) (\S+?)(?: (\d+))?$/.exec(expected);
  if (m) {
    expect(answer.status, what).toBe(Number(m[3] ?? 200));
    expect(JSON.parse(answer.body), what).toMatchObject({ fn: m[1], url: m[2] });
    return;
  }
  m = /^static (\S+) (\d+)(?: (.+))?$/.exec(expected);
  if (m) {
    expect({ status: answer.status, body: answer.body }, what).toEqual({
      status: Number(m[2]),
      body: `static ${m[1]}`,
    });
    if (m[3]) expect(answer.headers.get("content-type")).toBe(m[3]);
    return;
  }
  m = /^redirect (\d+) (\S+)$/.exec(expected);
  if (m) {
    expect({ status: answer.status, location: answer.headers.get("location") }, what).toEqual({
      status: Number(m[1]),
      location: m[2] ?? "",
    });
    return;
  }
  m = /^status (\d+)/.exec(expected);
  if (!m) throw new Error(`cannot read ${expected}`);
  // The platform's own page for the status: neither a file of the site nor a function.
  expect(answer.status, what).toBe(Number(m[1]));
  expect(answer.body, what).not.toStartWith("static ");
  expect(answer.body, what).not.toStartWith('{"fn"');
}

describe("every-field through the real build and proxy", () => {
  test.each(everyFieldAnswers())("%s -> %s %j", async (url, expected, how) => {
    expectAnswer(await ask(url, how), expected);
  });

  test("route headers: captures, no-store, override and important, hit", async () => {
    const asset = await ask("/assets/app.js");
    expect(asset.headers.get("x-route")).toBe("/assets/app.js");
    expect(asset.headers.get("x-hit")).toBe("1");
    const privateAnswer = await ask("/private/x");
    expect(privateAnswer.headers.get("cache-control")).toBe("no-store");
    expect(privateAnswer.headers.get("x-route")).toBe("/private/x");
    const fresh = await ask("/fresh");
    expect(fresh.headers.get("cache-control")).toBe("no-cache");
    expect(fresh.headers.get("x-frame-options")).toBe("DENY");
    expect(fresh.headers.get("x-route")).toBeNull();
  });

  test("transforms reach the function's request and its response", async () => {
    const echo = await ask("/api/echo");
    expect(JSON.parse(echo.body)).toMatchObject({ route: "yes" });
    expect(echo.headers.get("x-powered-by")).toBe("minivercel");
    expect(echo.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  test("the handler styles: helpers parse a form, none without them, the edge function runs as one", async () => {
    const form = await ask("/form", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(JSON.parse(form.body)).toMatchObject({ method: "POST" });
    const posted = await request(proxy, `${site}/form`, {
      method: "POST",
      body: "name=ada&lang=fr",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(await posted.json()).toMatchObject({ body: { name: "ada", lang: "fr" } });
    expect(JSON.parse((await ask("/users/42")).body)).toMatchObject({ helpers: false });
    expect(JSON.parse((await ask("/where?v=3")).body)).toMatchObject({
      fn: "/api/where",
      edge: "edge-runtime",
    });
    expect(JSON.parse((await ask("/api/echo")).body)).toMatchObject({ edge: null });
  });
});

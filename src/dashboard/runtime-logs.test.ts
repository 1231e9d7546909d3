// The deployment page's runtime logs through the dashboard's handler: shown only for a deployment with functions,
// live by default, time ranges rendered on the server (also without JavaScript) and paged, hostile output escaped,
// and nobody else's.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Deployment } from "../model/entities.ts";
import type { RuntimeLogLine } from "../store/runtime-logs.ts";
import { testDeps } from "../testing/deps.ts";
import { storeFunction } from "../testing/functions.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
let owner: Visitor;
let withFunctions: Deployment;
let staticOnly: Deployment;
const HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(2)> \u001b[31mred\u001b[0m & done";
const FN = "/api/<i>tilt</i>";
const now = Date.now();

const line = (n: number, overrides: Partial<RuntimeLogLine> = {}): RuntimeLogLine => ({
  deploymentId: withFunctions.id,
  id: `d-${String(n).padStart(6, "0")}`,
  function: "/api/hello",
  requestId: `req-${n}`,
  stream: "stdout",
  text: `line ${n}`,
  // Line n was printed n seconds before the last one, which is a minute old.
  at: new Date(now - 60_000 - (500 - n) * 1000).toISOString(),
  ...overrides,
});

beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
  owner = new Visitor(app);
  const user = await signIn(deps.store, owner);
  const project = await createProject(deps.store, deps.config, user.id, { name: "Functions" });
  const create = () =>
    deps.store.deployments.create({
      projectId: project.id,
      userId: user.id,
      status: "READY",
      target: "production",
      branch: "main",
      commitSha: null,
    });
  withFunctions = await create();
  staticOnly = await create();
  const fn = await storeFunction(deps.artifacts, {
    "index.mjs": "export const GET = () => new Response('hi');",
  });
  await deps.artifacts.putManifest({
    version: 2,
    deploymentId: withFunctions.id,
    createdAt: new Date().toISOString(),
    files: {},
    functions: { "/api/hello": fn, [FN]: fn },
  });
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: staticOnly.id,
    createdAt: new Date().toISOString(),
    files: {},
  });
  // 450 lines of /api/hello, then the hostile one of the other function (the newest).
  await deps.runtimeLogs.append([
    ...Array.from({ length: 450 }, (_, i) => line(i + 1)),
    line(499, { function: FN, requestId: null, stream: "stderr", text: HOSTILE }),
  ]);
});
afterAll(() => deps.close());

const path = () => `/deployments/${withFunctions.id}`;
/** The rendered lines' texts, in page order. */
const texts = (html: string) => [...html.matchAll(/<span class="rt-text">([^<]*)<\/span>/g)].map((m) => m[1]);

describe("runtime logs on the deployment page", () => {
  test("only for a deployment with functions; live by default, with its functions to filter by", async () => {
    const page = await owner.get(path());
    expect(page.status).toBe(200);
    expect(page.text).toContain("Runtime logs");
    expect(page.text).toContain(`data-stream="/api/deployments/${withFunctions.id}/runtime-logs/stream"`);
    expect(page.text).toContain('<option value="/api/hello">/api/hello</option>');
    // The function named in markup is text, not markup.
    expect(page.text).toContain("/api/&lt;i>tilt&lt;/i>");
    expect(page.text).not.toContain("<i>tilt</i>");
    // Strict CSP: no inline script or style anywhere on the page.
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\sstyle=/);
    const plain = await owner.get(`/deployments/${staticOnly.id}`);
    expect(plain.status).toBe(200);
    expect(plain.text).not.toContain("Runtime logs");
  });

  test("a hostile line is escaped, its terminal colours dropped; function and request id are shown", async () => {
    const page = await owner.get(`${path()}?range=15m`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("<script>alert");
    expect(page.text).not.toContain("<img src=x");
    expect(page.text).toContain(
      "&lt;script>alert('x')&lt;/script>&lt;img src=x onerror=alert(2)> red &amp; done",
    );
    expect(page.text).toContain('<div class="line line-stderr">');
    expect(page.text).toContain('<span class="rt-fn">/api/&lt;i>tilt&lt;/i></span>');
    expect(page.text).toContain('<span class="rt-req" title="outside a request">—</span>');
    expect(page.text).not.toContain("\u001b");
  });

  test("a time range through htmx: the body fragment, oldest first, 200 lines a page, older pages on demand", async () => {
    const hello = encodeURIComponent("/api/hello");
    const first = await owner.get(`${path()}/runtime-logs?range=1h&function=${hello}`, {
      "hx-request": "true",
    });
    expect(first.text).toStartWith('<div id="runtime-body">');
    expect(texts(first.text)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${251 + i}`));
    expect(first.text).toContain('<span class="rt-req" title="request req-251">req-251</span>');
    const olderOf = (html: string) => /hx-get="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
    const second = await owner.get(olderOf(first.text) ?? "missing");
    expect(second.text).toStartWith('<button type="button" class="button small runtime-older"');
    expect(texts(second.text)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${51 + i}`));
    const third = await owner.get(olderOf(second.text) ?? "missing");
    expect(texts(third.text)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
    expect(third.text).not.toContain("runtime-older");
  });

  test("from … to …, in the browser's time zone; a range that cannot be says why", async () => {
    // Lines 100 to 102, as a browser two hours ahead of UTC writes their times (tz = -120).
    const local = (n: number) => new Date(Date.parse(line(n).at) + 120 * 60_000).toISOString().slice(0, 19);
    const q = (from: string, to: string) =>
      `${path()}/runtime-logs?range=custom&from=${from}&to=${to}&tz=-120&function=${encodeURIComponent("/api/hello")}`;
    // "To" includes the whole second it names (line 102 was printed some milliseconds into it).
    const got = await owner.get(q(local(100), local(102)));
    expect(texts(got.text)).toEqual(["line 100", "line 101", "line 102"]);
    // Without seconds, the whole minute: every line from 100 up to the end of the minute line 102 is in.
    const minute = local(102).slice(0, 16);
    const end = Date.parse(`${minute}:00Z`) - 120 * 60_000 + 60_000;
    const inMinute = Array.from({ length: 401 }, (_, i) => i + 100).filter(
      (n) => Date.parse(line(n).at) < end,
    );
    expect(texts((await owner.get(q(local(100), minute))).text)).toEqual(inMinute.map((n) => `line ${n}`));
    const backwards = await owner.get(q(local(103), local(100)));
    expect(backwards.text).toContain("“From” must be before “To”.");
    expect((await owner.get(q("yesterday", ""))).text).toContain("Choose when the range starts (From).");
  });

  test("another account gets the 404 page, for the page and the fragment", async () => {
    const other = new Visitor(app);
    await signIn(deps.store, other);
    expect((await other.get(`${path()}?range=1d`)).status).toBe(404);
    const fragment = await other.get(`${path()}/runtime-logs?range=1d`);
    expect(fragment.status).toBe(404);
    expect(fragment.text).not.toContain("line 1");
  });
});

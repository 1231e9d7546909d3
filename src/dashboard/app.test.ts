// The dashboard's shell: embedded assets, security headers, not-found and internal-error pages.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { captureLog } from "../testing/metrics.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";
import { assetUrls } from "./assets.ts";

let deps: Deps;
beforeAll(async () => {
  deps = await testDeps();
});
afterAll(() => deps.close());

test("htmx and our assets are served by us, with a long cache and their content hash in the URL", async () => {
  const v = new Visitor(createDashboard(deps));
  for (const url of [assetUrls.htmx, assetUrls.js, assetUrls.css]) {
    const res = await v.get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.text.length).toBeGreaterThan(1000);
  }
  expect((await v.get(assetUrls.htmx)).text).toContain("htmx");
  expect((await v.get("/assets/../package.json")).status).toBe(404);
  expect((await v.get("/assets/constructor")).status).toBe(404);
});

test("the icons: SVG, an ICO of PNGs and a touch icon, linked from every page; /favicon.ico answers too", async () => {
  const v = new Visitor(createDashboard(deps));
  const page = await v.get("/setup");
  expect(page.text).toContain(`<link rel="icon" href="${assetUrls.ico}" sizes="48x48"/>`);
  expect(page.text).toContain(`<link rel="icon" href="${assetUrls.icon}" type="image/svg+xml" sizes="any"/>`);
  expect(page.text).toContain(`<link rel="apple-touch-icon" href="${assetUrls.appleTouchIcon}"/>`);

  const binary = async (path: string) => {
    const res = await createDashboard(deps).handle(new Request(`http://localhost${path}`));
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  const svg = await v.get(assetUrls.icon);
  expect(svg.headers.get("content-type")).toBe("image/svg+xml");
  expect(svg.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  expect(svg.text).toStartWith("<svg");

  const ico = await binary(assetUrls.ico);
  expect(ico.res.headers.get("content-type")).toBe("image/x-icon");
  expect(ico.res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  const view = new DataView(ico.bytes.buffer);
  // ICONDIR: reserved 0, type 1 (icon), three images; each entry points at a PNG of its size.
  expect([view.getUint16(0, true), view.getUint16(2, true), view.getUint16(4, true)]).toEqual([0, 1, 3]);
  for (const [i, size] of [16, 32, 48].entries()) {
    expect(ico.bytes[6 + 16 * i]).toBe(size);
    const offset = view.getUint32(6 + 16 * i + 12, true);
    expect([...ico.bytes.subarray(offset, offset + 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(view.getUint32(offset + 16)).toBe(size); // the PNG's IHDR width
  }
  const plain = await binary("/favicon.ico");
  expect(plain.res.status).toBe(200);
  expect(plain.res.headers.get("cache-control")).toBe("public, max-age=86400");
  expect(plain.bytes).toEqual(ico.bytes);

  const touch = await binary("/apple-touch-icon.png");
  expect(touch.res.headers.get("content-type")).toBe("image/png");
  expect(new DataView(touch.bytes.buffer).getUint32(16)).toBe(180);
});

test("pages carry a strict content security policy and refuse framing", async () => {
  const v = new Visitor(createDashboard(deps));
  const res = await v.get("/setup");
  expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
  expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
});

test("an unknown page is a 404 page; an unexpected error is a generic 500 page and a log line, never a stack", async () => {
  const v = new Visitor(createDashboard(deps));
  await signIn(deps.store, v);
  const missing = await v.get("/no/such/page");
  expect(missing.status).toBe(404);
  expect(missing.text).toContain("Not found");
  // Signed in, the page keeps the navigation (and sign out works from it); signed out, there is none.
  expect(missing.text).toContain('<nav class="topnav" aria-label="Main">');
  expect(missing.text).toContain(`name="_csrf" value="${v.csrf}"`);
  const notMine = await v.get(`/projects/${crypto.randomUUID()}`);
  expect(notMine.status).toBe(404);
  expect(notMine.text).toContain('<nav class="topnav" aria-label="Main">');
  const anonymous = await new Visitor(createDashboard(deps)).get("/no/such/page");
  expect(anonymous.status).toBe(404);
  expect(anonymous.text).not.toContain('class="topnav"');

  const { log, lines: logged } = captureLog();
  const broken = createDashboard({
    ...deps,
    log,
    store: {
      ...deps.store,
      projects: {
        ...deps.store.projects,
        list: () => Promise.reject(new Error("db exploded at /secret/path")),
      },
    },
  });
  const b = new Visitor(broken);
  b.cookies.set("mv_session", v.cookies.get("mv_session") ?? "");
  const res = await b.get("/");
  expect(res.status).toBe(500);
  expect(res.text).toContain("Something went wrong");
  expect(res.text).not.toContain("exploded");
  expect(res.text).not.toContain("/secret/path");
  // The operator's log has what the page leaves out.
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({ level: "error", msg: "dashboard: unhandled error", path: "/" });
  expect(JSON.stringify(logged[0])).toContain("db exploded");

  const htmx = await v.get("/no/such/page", { "hx-request": "true" });
  expect(htmx.headers.get("hx-retarget")).toBe("#main");
});

// Test support for web analytics end to end: the same scenario on every backend. A project's Analytics tab is
// open in Debian's chromium; traffic goes through the real proxy's port; the numbers must appear in the API
// with the right counts and in the open page's charts (by htmx's refresh, without a reload), on a desktop and a
// phone; and no visitor's address may be in any stored row.

import { expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { Deps } from "../deps.ts";
import { createApiToken, createSession, createUser } from "../identity/accounts.ts";
import { docShot, launchChromium, shot, watchProblems } from "./browser.ts";
import { deploySite, siteProject } from "./sites.ts";

export interface AnalyticsSetup {
  /** Where the dashboard and API answer, and the process's deps behind them. */
  api: string;
  apiDeps: Deps;
  /** The proxy's port (sites answer there by Host header). */
  proxyPort: number;
  /** Every stored row of the analytics and salts tables as text, for the address check. */
  storedRows(): Promise<string>;
  stop(): Promise<void>;
}

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
/** Visitors' addresses, as a trusted reverse proxy (TRUST_PROXY=1) hands them over. */
const ADDRESSES = ["203.0.113.41", "198.51.100.42", "2001:db8:4243:1::7", "192.0.2.44"];

/** Runs the scenario; `open` starts the roles (with TRUST_PROXY=1 and a short ANALYTICS_FLUSH_SECONDS). */
export function analyticsEndToEnd(name: string, open: () => Promise<AnalyticsSetup>): void {
  test(`analytics end to end (${name}): proxy traffic -> bus -> store -> API counts and live dashboard charts`, async () => {
    const setup = await open();
    let browser: Browser | null = null;
    try {
      const deps = setup.apiDeps;
      const user = await createUser(
        deps.store,
        `stats-${crypto.randomUUID().slice(0, 6)}@example.com`,
        "a long password",
      );
      const { token } = await createApiToken(deps.store, user.id, "stats");
      const project = await siteProject(deps, user.id, { spaFallback: false });
      const deployment = await deploySite(deps, project, {
        "index.html": "<h1>home</h1>",
        "about/index.html": `<h1>about</h1>${"x".repeat(2000)}`,
      });
      const host = `${project.subDomain}.${deps.config.sitesDomain}`;
      const hit = async (path: string, ua: string, address: string, referer?: string) => {
        const response = await fetch(`http://127.0.0.1:${setup.proxyPort}${path}`, {
          headers: {
            host,
            "user-agent": ua,
            "x-forwarded-for": address,
            "accept-encoding": "identity",
            ...(referer && { referer }),
          },
        });
        await response.arrayBuffer();
        return response.status;
      };
      // The proxy may hear of the new deployment a moment after it is READY (over Kafka).
      const deadline = Date.now() + 30_000;
      while ((await hit("/", GOOGLEBOT, "192.0.2.1")) !== 200 && Date.now() < deadline) await Bun.sleep(200);

      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const { cookie } = await createSession(deps.store, user.id, 3600);
      await context.addCookies([{ name: "mv_session", value: cookie, url: setup.api }]);
      const page: Page = await context.newPage();
      const problems = watchProblems(page);
      await page.goto(`${setup.api}/projects/${project.id}/analytics?range=hour`);
      await page.waitForSelector("svg.chart");

      // 29 requests of people (3 visitors), 2 of a bot (the warm-up probes above are bots too).
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) statuses.push(await hit("/", CHROME, ADDRESSES[0] ?? ""));
      for (let i = 0; i < 10; i++)
        statuses.push(
          await hit("/about/", FIREFOX, ADDRESSES[1] ?? "", "https://news.example.com/item?id=7"),
        );
      for (let i = 0; i < 4; i++) statuses.push(await hit("/missing?secret=1", IPHONE, ADDRESSES[2] ?? ""));
      statuses.push(await hit("/", GOOGLEBOT, ADDRESSES[3] ?? ""));
      expect(statuses.filter((s) => s === 200)).toHaveLength(26);

      // The API: exact counts once the flush is stored.
      const report = async (query: string) => {
        const res = await fetch(`${setup.api}/api/projects/${project.id}/analytics?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      let body: Record<string, unknown> = {};
      const until = Date.now() + 60_000;
      for (;;) {
        body = await report("range=hour");
        if ((body.totals as { requests: number }).requests >= 29 || Date.now() > until) break;
        await Bun.sleep(250);
      }
      const totals = body.totals as Record<string, number>;
      expect(totals.requests).toBe(29);
      expect(totals.visitors).toBe(3);
      expect(totals.bots).toBeGreaterThanOrEqual(2);
      expect(totals.bytes).toBeGreaterThan(15 * 13 + 10 * 2000);
      expect(totals.ttfbP50Ms).not.toBeNull();
      const list = (key: string) =>
        (body[key] as { key: string; requests: number }[]).map((e) => [e.key, e.requests]);
      expect(list("pages")).toEqual([
        ["/", 15],
        ["/about/", 10],
        ["/missing", 4],
      ]);
      expect(list("referrers")).toEqual([
        ["", 19],
        ["news.example.com", 10],
      ]);
      expect(list("browsers")).toEqual([
        ["Chrome", 15],
        ["Firefox", 10],
        ["Safari", 4],
      ]);
      expect(list("os")).toEqual([
        ["Windows", 15],
        ["Linux", 10],
        ["iOS", 4],
      ]);
      expect(list("statuses")).toEqual([
        ["200", 25],
        ["404", 4],
      ]);
      expect(list("deployments")).toEqual([[deployment.id, 29]]);
      const filtered = await report(`range=day&referrer=news.example.com&deployment=${deployment.id}`);
      expect(filtered.totals).toMatchObject({ requests: 10, visitors: 1 });
      const csv = await fetch(`${setup.api}/api/projects/${project.id}/analytics?range=hour&format=csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await csv.text()).toContain("\r\ntotals,requests,29,,29\r\n");

      // The page that was open before the traffic shows it after htmx's refresh (every 15 s), no reload.
      await page.waitForFunction(
        () => document.querySelector("#stat-requests dd")?.textContent === "29",
        undefined,
        { timeout: 45_000 },
      );
      expect(await page.textContent("#stat-visitors dd")).toBe("3");
      const drawn = await page.$$eval("rect.chart-bar", (bars) =>
        bars.reduce((n, b) => n + Number(b.getAttribute("data-requests")), 0),
      );
      expect(drawn).toBe(29);
      expect(await page.textContent("#top-referrers")).toContain("news.example.com");
      await shot(page, `analytics-${name}`);
      // Filtering by a page in the table: a link, so the view has its own address.
      await page.click("#top-pages a[href*='path=%2Fabout%2F']");
      await page.waitForFunction(() => document.querySelector("#stat-requests dd")?.textContent === "10");
      // A phone: the chart scales, nothing scrolls sideways.
      await page.setViewportSize({ width: 375, height: 812 });
      await page.goto(`${setup.api}/projects/${project.id}/analytics?range=hour`);
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        chart: document.querySelector("svg.chart")?.getBoundingClientRect().width ?? 0,
      }));
      expect(widths.page).toBeLessThanOrEqual(376);
      expect(widths.chart).toBeGreaterThan(250);
      expect(widths.chart).toBeLessThanOrEqual(375);
      if (name === "sqlite") await docShot(page, "analytics-phone", true);
      expect(problems).toEqual([]);

      // No address anywhere in what was stored.
      const rows = await setup.storedRows();
      expect(rows.length).toBeGreaterThan(0);
      for (const address of [...ADDRESSES, "2001:db8:4243:1"]) expect(rows.includes(address)).toBe(false);
    } finally {
      await browser?.close();
      await setup.stop();
    }
  }, 240_000);
}

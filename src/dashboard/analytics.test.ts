// The Analytics tab through the dashboard's handler: stored records drawn as the SVG series and the top lists,
// the panel alone for htmx, filters from the address (a wrong one said inline), escaping; others: 404.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import type { Project } from "../model/entities.ts";
import { analyticsRow } from "../store/analytics.contract.ts";
import { testDeps } from "../testing/deps.ts";
import { signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
let owner: Visitor;
let project: Project;
const deploymentId = crypto.randomUUID();
const now = Math.floor(Date.now() / 60_000) * 60;

beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
  owner = new Visitor(app);
  const user = await signIn(deps.store, owner);
  project = await createProject(deps.store, deps.config, user.id, { name: "stats", subDomain: `s-${now}` });
  await deps.analytics.append(crypto.randomUUID(), [
    analyticsRow(project.id, { deploymentId, minute: now, path: "/", requests: 4, referrer: "news.example" }),
    analyticsRow(project.id, { deploymentId, minute: now, path: "/<script>x</script>", requests: 1 }),
    analyticsRow(project.id, {
      deploymentId,
      minute: now - 120,
      path: "/about",
      visitor: "ffffffffffffffff",
    }),
    analyticsRow(project.id, { deploymentId, minute: now, bot: true, requests: 9 }),
  ]);
});
afterAll(() => deps.close());

describe("analytics tab", () => {
  test("totals, an SVG series and top lists; bots apart; text escaped", async () => {
    const page = await owner.get(`/projects/${project.id}/analytics?range=hour`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('aria-current="page">Analytics</a>');
    expect(page.text).toMatch(/id="stat-requests"><dt>Requests<\/dt><dd>6<\/dd>/);
    expect(page.text).toMatch(/id="stat-visitors"><dt>Visitors<\/dt><dd>2<\/dd>/);
    expect(page.text).toMatch(/id="stat-bots"><dt>Bots \(apart\)<\/dt><dd>9<\/dd>/);
    expect(page.text).toContain('<svg class="chart"');
    expect(page.text).toContain('data-points="60"');
    expect((page.text.match(/class="chart-bar"/g) ?? []).length).toBe(2);
    expect(page.text).toContain("news.example");
    expect(page.text).not.toContain("<script>x</script>");
    expect(page.text).toContain("/&lt;script>x&lt;/script>");
    expect(page.text).toContain('hx-trigger="every 15s"');
  });

  test("the panel alone, filtered by path, referrer (- for direct) or deployment", async () => {
    const panel = await owner.get(`/projects/${project.id}/analytics/panel?range=day&path=%2Fabout`);
    expect(panel.status).toBe(200);
    expect(panel.text).toStartWith('<div id="analytics-panel"');
    expect(panel.text).toMatch(/id="stat-requests"><dt>Requests<\/dt><dd>1<\/dd>/);
    const direct = await owner.get(`/projects/${project.id}/analytics/panel?referrer=-`);
    expect(direct.text).toMatch(/id="stat-requests"><dt>Requests<\/dt><dd>2<\/dd>/);
    const other = await owner.get(
      `/projects/${project.id}/analytics/panel?deployment=${crypto.randomUUID()}`,
    );
    expect(other.text).toMatch(/id="stat-requests"><dt>Requests<\/dt><dd>0<\/dd>/);
  });

  test("wrong filters are dropped and said inline, not a 500", async () => {
    const page = await owner.get(`/projects/${project.id}/analytics?range=year&deployment=nope&path=nope`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="analytics-filter-error"');
    expect(page.text).toContain("range must be one of hour, day, week, month");
    expect(page.text).toContain("deployment must be a deployment id");
    expect(page.text).toContain("path must start with /");
  });

  test("someone else's project is not found; signed out goes to sign-in", async () => {
    const other = new Visitor(app);
    await signIn(deps.store, other);
    expect((await other.get(`/projects/${project.id}/analytics`)).status).toBe(404);
    expect((await other.get(`/projects/${project.id}/analytics/panel`)).status).toBe(404);
    const anonymous = await new Visitor(app).get(`/projects/${project.id}/analytics`);
    expect([302, 303]).toContain(anonymous.status);
  });
});

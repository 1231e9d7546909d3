// The role x route matrix through the dashboard's handler: for a team's owner, member and viewer and an account
// outside the team, every page and action answers as the table says (outsiders a 404 page, too weak a role a
// 403 page). Every route of the dashboard is in the table.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { makeTeamFixture, type TeamFixture, type Who } from "../testing/team-fixture.ts";
import { signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
let f: TeamFixture;
const visitors = {} as Record<Who, Visitor>;

beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
  f = await makeTeamFixture(deps);
  for (const who of ["owner", "member", "viewer", "none"] as const) {
    visitors[who] = new Visitor(app);
    await signInAs(deps.store, visitors[who], f.people[who].user);
    await f.people.owner.api("PUT", `/api/projects/${f.project.id}/env/KEY_${who}`, { value: who });
  }
}, 60_000);
afterAll(() => deps.close());

type Cells = [number, number, number, number];
interface Row {
  method: "GET" | "POST";
  path: (who: Who) => string;
  form?: (who: Who) => Record<string, string>;
  expect: Cells;
}
const get = (path: string | ((who: Who) => string), expect: Cells): Row => ({
  method: "GET",
  path: typeof path === "string" ? () => path : path,
  expect,
});
const post = (
  path: string | ((who: Who) => string),
  expect: Cells,
  form: (who: Who) => Record<string, string> = () => ({}),
): Row => ({ method: "POST", path: typeof path === "string" ? () => path : path, form, expect });
const same = (status: number): Cells => [status, status, status, status];
const READ = (ok: number): Cells => [ok, ok, ok, 404];
const WRITE = (ok: number): Cells => [ok, ok, 403, 404];
const ADMIN = (ok: number): Cells => [ok, 403, 403, 404];

function table(): Record<string, Row[]> {
  const p = f.project.id;
  const t = f.slug;
  const [older, production] = f.ready;
  const guessed = `inv_${"D".repeat(43)}`;
  const back = `http://${f.project.subDomain}--${production.replaceAll("-", "").slice(0, 12)}.localhost:8001/`;
  return {
    "GET /assets/:name": [get("/assets/app.css", same(200))],
    "GET /favicon.ico": [get("/favicon.ico", same(200))],
    "GET /apple-touch-icon.png": [get("/apple-touch-icon.png", same(200))],
    "GET /setup": [get("/setup", same(303))],
    "POST /setup": [post("/setup", same(403))],
    "GET /login": [get("/login", same(303))],
    "POST /login": [post("/login", same(403))],
    "GET /account": [get("/account", same(200))],
    "POST /account/tokens": [post("/account/tokens", same(201), (who) => ({ name: `${who}'s` }))],
    "POST /account/tokens/:id/revoke": [post(`/account/tokens/${crypto.randomUUID()}/revoke`, same(404))],
    "POST /account/password": [
      post("/account/password", same(422), () => ({ current: "no", password: "x".repeat(12) })),
    ],
    "POST /account/sessions/others": [post("/account/sessions/others", same(303))],
    "POST /account/sessions/:hash/revoke": [post(`/account/sessions/${"0".repeat(64)}/revoke`, same(404))],
    "GET /": [get(`/?team=${t}`, READ(200))],
    "POST /scope": [post("/scope", READ(303), () => ({ team: t }))],
    "GET /projects/new": [get(`/projects/new?team=${t}`, WRITE(200))],
    "POST /projects": [post("/projects", WRITE(303), (who) => ({ name: `By ${who}`, team: t }))],
    "GET /projects/:id": [get(`/projects/${p}`, READ(200))],
    "GET /projects/:id/analytics": [get(`/projects/${p}/analytics?range=week`, READ(200))],
    "GET /projects/:id/analytics/panel": [get(`/projects/${p}/analytics/panel`, READ(200))],
    "POST /projects/:id/deploy": [post(`/projects/${p}/deploy`, WRITE(303))],
    "POST /projects/:id/rollback": [post(`/projects/${p}/rollback`, WRITE(303))],
    // Settings hold the members' business (variables, domains); the owners' sections are refused to members.
    "GET /projects/:id/settings": [get(`/projects/${p}/settings`, WRITE(200))],
    "GET /projects/:id/git": [get(`/projects/${p}/git`, ADMIN(200))],
    "POST /projects/:id/git-provider": [
      post(`/projects/${p}/git-provider`, ADMIN(303), () => ({
        kind: "github",
        token: "ghp_dashboard_matrix_1234",
        apiUrl: "https://203.0.113.20/api/v3",
        repository: "team/site",
      })),
    ],
    "POST /projects/:id/git-provider/delete": [post(`/projects/${p}/git-provider/delete`, ADMIN(303))],
    // Creating a hook answers the page with its secret shown once.
    "POST /projects/:id/hooks": [
      post(`/projects/${p}/hooks`, ADMIN(200), () => ({
        url: "https://203.0.113.12/hook",
        format: "standard",
        "deployment.ready": "on",
      })),
    ],
    "GET /projects/:id/hooks/:hookId": [get(`/projects/${p}/hooks/${f.hookId}`, ADMIN(200))],
    "POST /projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver": [
      post(`/projects/${p}/hooks/${f.hookId}/deliveries/${f.deliveryId}/redeliver`, ADMIN(303)),
    ],
    "POST /projects/:id/hooks/:hookId/delete": [post(`/projects/${p}/hooks/${f.hookId}/delete`, ADMIN(303))],
    "POST /projects/:id/settings": [
      post(`/projects/${p}/settings`, ADMIN(303), (who) => ({
        section: "general",
        name: `Renamed by ${who}`,
        productionBranch: "main",
      })),
    ],
    // No custom domain yet: those who may try are told so on the page (422).
    "POST /projects/:id/domain/verify": [post(`/projects/${p}/domain/verify`, WRITE(422))],
    "POST /projects/:id/domains": [
      post(`/projects/${p}/domains`, WRITE(303), (who) => ({ domain: `dash-${who}.example.net` })),
    ],
    "POST /projects/:id/domains/:domain/redirect": [
      post(
        (who) => `/projects/${p}/domains/dash-${who}.example.net/redirect`,
        WRITE(303),
        () => ({
          redirectTo: "",
        }),
      ),
    ],
    "POST /projects/:id/domains/:domain/verify": [
      post(`/projects/${p}/domains/none.example.net/verify`, [404, 404, 403, 404]),
    ],
    "POST /projects/:id/domains/:domain/remove": [
      post((who) => `/projects/${p}/domains/dash-${who}.example.net/remove`, WRITE(303)),
    ],
    "POST /projects/:id/protection": [
      post(`/projects/${p}/protection`, ADMIN(303), () => ({ protection: "all" })),
    ],
    "POST /projects/:id/protection/password": [
      post(`/projects/${p}/protection/password`, ADMIN(303), () => ({ password: "a team password" })),
    ],
    "POST /projects/:id/protection/password/delete": [
      post(`/projects/${p}/protection/password/delete`, ADMIN(303)),
    ],
    "POST /projects/:id/protection/bypass": [
      post(`/projects/${p}/protection/bypass`, ADMIN(200), (who) => ({ tokenName: `by ${who}` })),
    ],
    "POST /projects/:id/protection/bypass/:tokenId/revoke": [
      post(`/projects/${p}/protection/bypass/${f.bypassTokenId}/revoke`, ADMIN(303)),
    ],
    // Signing in to a protected deployment: every member of the team (a viewer too) gets the hand-off.
    "GET /protection/authorize": [
      get(`/protection/authorize?${new URLSearchParams({ project: p, return: back })}`, [303, 303, 303, 403]),
    ],
    "POST /projects/:id/env": [
      post(`/projects/${p}/env`, WRITE(303), (who) => ({ key: "SHARED", value: who, production: "on" })),
    ],
    "POST /projects/:id/env/paste": [
      post(`/projects/${p}/env/paste`, WRITE(303), (who) => ({ dotenv: `PASTED=${who}`, production: "on" })),
    ],
    "POST /projects/:id/env/:key/delete": [post((who) => `/projects/${p}/env/KEY_${who}/delete`, WRITE(303))],
    "GET /deployments/:id": [get(`/deployments/${production}`, READ(200))],
    "GET /deployments/:id/summary": [get(`/deployments/${production}/summary`, READ(200))],
    "GET /deployments/:id/badge": [get(`/deployments/${production}/badge`, READ(200))],
    // No preview image in this fixture: a 404 whoever asks (previews.test.ts has the image and its owner check).
    "GET /deployments/:id/preview.png": [get(`/deployments/${production}/preview.png`, same(404))],
    "GET /deployments/:id/log.txt": [get(`/deployments/${production}/log.txt`, READ(200))],
    "GET /deployments/:id/runtime-logs": [get(`/deployments/${production}/runtime-logs?range=1d`, READ(200))],
    "POST /deployments/:id/cancel": [post((who) => `/deployments/${f.queued[who]}/cancel`, WRITE(303))],
    "POST /deployments/:id/redeploy": [post(`/deployments/${production}/redeploy`, WRITE(303))],
    "GET /deployments/:id/promote": [get(`/deployments/${older}/promote`, WRITE(200))],
    "POST /deployments/:id/promote": [post(`/deployments/${older}/promote`, WRITE(303))],
    "POST /deployments/:id/restart": [post(`/deployments/${production}/restart`, WRITE(303))],
    "GET /teams": [get("/teams", same(200))],
    "POST /teams": [post("/teams", same(303), (who) => ({ slug: `${t}-${who}` }))],
    "GET /teams/:team": [get(`/teams/${t}`, READ(200))],
    "POST /teams/:team/members/:userId/role": [
      post(`/teams/${t}/members/${f.extras[0].user.id}/role`, ADMIN(303), () => ({ role: "viewer" })),
    ],
    "POST /teams/:team/members/:userId/remove": [
      post(`/teams/${t}/members/${f.extras[1].user.id}/remove`, ADMIN(303)),
    ],
    "POST /teams/:team/invitations": [
      post(`/teams/${t}/invitations`, ADMIN(201), () => ({ role: "viewer" })),
    ],
    "POST /teams/:team/invitations/:invitationId/revoke": [
      post(`/teams/${t}/invitations/${f.invitationId}/revoke`, ADMIN(303)),
    ],
    "GET /invite/:token": [get(`/invite/${guessed}`, same(200))],
    "POST /invite/:token": [post(`/invite/${guessed}`, same(404))],
    "GET /teams/:team/audit": [get(`/teams/${t}/audit`, ADMIN(200))],
    "GET /audit": [get("/audit", same(200))],
    // While the team has projects its owner is told to move or delete them first (409, on the team's page).
    "POST /teams/:team/delete": [post(`/teams/${t}/delete`, ADMIN(409))],
    "POST /projects/:id/delete": [
      post(`/projects/${p}/delete`, ADMIN(303), () => ({ confirm: `Renamed by owner` })),
    ],
    // Last: the viewer and the member leave; the last owner may not.
    "POST /teams/:team/leave": [post(`/teams/${t}/leave`, [409, 303, 303, 404])],
    "POST /logout": [post("/logout", same(303))],
  };
}

const ORDER: Who[] = ["none", "viewer", "member", "owner"];
const COLUMN: Record<Who, number> = { owner: 0, member: 1, viewer: 2, none: 3 };

describe("role x route matrix (dashboard)", () => {
  test("every page and action answers each role as the table says", async () => {
    const rows = table();
    const routes = app.routes.map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(rows).sort()).toEqual([...routes].sort());
    const answers: string[] = [];
    const expected: string[] = [];
    for (const [route, tries] of Object.entries(rows)) {
      for (const r of tries) {
        for (const who of ORDER) {
          const path = r.path(who);
          const visitor = visitors[who];
          const res = r.method === "GET" ? await visitor.get(path) : await visitor.post(path, r.form?.(who));
          answers.push(`${route} ${path} as ${who}: ${res.status}`);
          expected.push(`${route} ${path} as ${who}: ${r.expect[COLUMN[who]]}`);
        }
      }
    }
    expect(answers).toEqual(expected);
  }, 60_000);
});

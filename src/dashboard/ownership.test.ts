// Tenancy through the dashboard's handler: another signed-in account gets a 404 page on every route that names a
// victim's resource, sees nothing of the victim's on any page, and changes nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createSession, hashSecret } from "../identity/accounts.ts";
import type { User } from "../model/entities.ts";
import { testDeps } from "../testing/deps.ts";
import { makeVictim, type Victim, victimState } from "../testing/victim.ts";
import { signIn, signInAs, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

interface Attempt {
  method: "GET" | "POST";
  path: string;
  form?: Record<string, string>;
  status: number;
  /** Sent from a second session of the same account (signing out would end the first one). */
  ownSession?: true;
}

const get = (path: string, status: number): Attempt => ({ method: "GET", path, status });
const post = (path: string, status: number, form: Record<string, string> = {}): Attempt => ({
  method: "POST",
  path,
  status,
  form,
});

/**
 * What the other account tries on each route of the dashboard, keyed as Elysia lists its routes. A route
 * missing here fails the test: a new page or action must say how it keeps tenants apart.
 */
function attempts(v: Victim & { sessionHash: string }): Record<string, Attempt[]> {
  const p = v.project.id;
  const t = v.team;
  const [older, production] = v.ready;
  const ids = [older, production, v.queued];
  const credentials = { email: "bob@example.com", password: "a long password" };
  return {
    "GET /assets/:name": [get("/assets/app.css", 200), get("/assets/nope.js", 404)],
    // The icons browsers ask for at fixed paths: the same for everyone, signed in or not.
    "GET /favicon.ico": [get("/favicon.ico", 200)],
    "GET /apple-touch-icon.png": [get("/apple-touch-icon.png", 200)],
    // Signed in, and setup long done: sent on; the forms have no pre-session cookie behind them here.
    "GET /setup": [get("/setup", 303)],
    "POST /setup": [post("/setup", 403, credentials)],
    "GET /login": [get("/login", 303)],
    "POST /login": [post("/login", 403, credentials)],
    "GET /account": [get("/account", 200)],
    "POST /account/tokens": [post("/account/tokens", 201, { name: "bob's token" })],
    "POST /account/tokens/:id/revoke": [post(`/account/tokens/${v.tokenId}/revoke`, 404)],
    "POST /logout": [{ ...post("/logout", 303), ownSession: true }],
    // Bob's own password, with a wrong current one: refused inline, and the victim's untouched either way.
    "POST /account/password": [
      post("/account/password", 422, { current: "wrong", password: "a new long one" }),
    ],
    "POST /account/sessions/others": [post("/account/sessions/others", 303)],
    "POST /account/sessions/:hash/revoke": [post(`/account/sessions/${v.sessionHash}/revoke`, 404)],
    "GET /": [get("/", 200), get(`/?team=${t.slug}`, 404)],
    "GET /projects/new": [get("/projects/new", 200), get(`/projects/new?gitUrl=x&team=${t.slug}`, 404)],
    "POST /projects": [
      post("/projects", 409, {
        name: "Squatter",
        gitUrl: "https://example.com/squat.git",
        subDomain: v.project.subDomain,
      }),
      post("/projects", 404, { name: "Planted", team: t.slug }),
    ],
    "GET /projects/:id": [get(`/projects/${p}`, 404)],
    "POST /projects/:id/deploy": [post(`/projects/${p}/deploy`, 404)],
    "POST /projects/:id/rollback": [post(`/projects/${p}/rollback`, 404)],
    "GET /projects/:id/settings": [get(`/projects/${p}/settings`, 404)],
    "GET /projects/:id/git": [get(`/projects/${p}/git`, 404)],
    "POST /projects/:id/git-provider": [
      post(`/projects/${p}/git-provider`, 404, { kind: "github", token: "ghp_bobs_token_1234", apiUrl: "" }),
    ],
    "POST /projects/:id/git-provider/delete": [post(`/projects/${p}/git-provider/delete`, 404)],
    "POST /projects/:id/hooks": [
      post(`/projects/${p}/hooks`, 404, { url: "https://203.0.113.66/bob", "deployment.ready": "on" }),
    ],
    "POST /projects/:id/hooks/:hookId/delete": [post(`/projects/${p}/hooks/${v.hookId}/delete`, 404)],
    "GET /projects/:id/hooks/:hookId": [get(`/projects/${p}/hooks/${v.hookId}`, 404)],
    "POST /projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver": [
      post(`/projects/${p}/hooks/${v.hookId}/deliveries/${v.deliveryId}/redeliver`, 404),
    ],
    "GET /projects/:id/analytics": [get(`/projects/${p}/analytics?range=week`, 404)],
    "GET /projects/:id/analytics/panel": [get(`/projects/${p}/analytics/panel`, 404)],
    "POST /projects/:id/settings": [
      post(`/projects/${p}/settings`, 404, { section: "general", name: "pwned", productionBranch: "main" }),
      post(`/projects/${p}/settings`, 404, { section: "domains", subDomain: "pwned", customDomain: "" }),
      post(`/projects/${p}/settings`, 404, {
        section: "server",
        startCommand: "sh pwned.sh",
        maxInstances: "20",
      }),
    ],
    "POST /projects/:id/domain/verify": [post(`/projects/${p}/domain/verify`, 404)],
    "POST /projects/:id/domains": [
      post(`/projects/${p}/domains`, 404, { domain: "stolen.example.org" }),
      post(`/projects/${p}/domains`, 404, { domain: "stolen.example.org", www: "on" }),
    ],
    "POST /projects/:id/domains/:domain/verify": [
      post(`/projects/${p}/domains/${v.project.customDomain}/verify`, 404),
    ],
    "POST /projects/:id/domains/:domain/redirect": [
      post(`/projects/${p}/domains/${v.project.customDomain}/redirect`, 404, { redirectTo: "" }),
    ],
    "POST /projects/:id/domains/:domain/remove": [
      post(`/projects/${p}/domains/${v.project.customDomain}/remove`, 404),
    ],
    "POST /projects/:id/protection": [post(`/projects/${p}/protection`, 404, { protection: "none" })],
    "POST /projects/:id/protection/password": [
      post(`/projects/${p}/protection/password`, 404, { password: "bob's password" }),
    ],
    "POST /projects/:id/protection/password/delete": [post(`/projects/${p}/protection/password/delete`, 404)],
    "POST /projects/:id/protection/bypass": [
      post(`/projects/${p}/protection/bypass`, 404, { name: "bob's" }),
    ],
    "POST /projects/:id/protection/bypass/:tokenId/revoke": [
      post(`/projects/${p}/protection/bypass/${v.bypassTokenId}/revoke`, 404),
    ],
    // A member's sign-in to a protected deployment: another account gets no hand-off token (403, no redirect).
    "GET /protection/authorize": [
      get(
        `/protection/authorize?${new URLSearchParams({ project: p, return: `http://${v.project.subDomain}--0123456789ab.localhost:8001/` })}`,
        403,
      ),
    ],
    "POST /projects/:id/env": [
      post(`/projects/${p}/env`, 404, { key: "VICTIM_API_KEY", value: "pwned" }),
      post(`/projects/${p}/env`, 404, { key: "BOBS_OWN", value: "planted" }),
      post(`/projects/${p}/env`, 404, { key: "VICTIM_DB_URL", value: "pwned", preview: "on" }),
    ],
    "POST /projects/:id/env/paste": [
      post(`/projects/${p}/env/paste`, 404, { dotenv: "VICTIM_API_KEY=pwned", production: "on" }),
    ],
    "POST /projects/:id/env/:key/delete": [
      post(`/projects/${p}/env/VICTIM_API_KEY/delete`, 404),
      post(`/projects/${p}/env/VICTIM_DB_URL/delete`, 404, { target: "preview" }),
    ],
    "POST /projects/:id/delete": [post(`/projects/${p}/delete`, 404, { confirm: v.project.name })],
    "GET /deployments/:id": ids.map((id) => get(`/deployments/${id}`, 404)),
    "GET /deployments/:id/summary": ids.map((id) => get(`/deployments/${id}/summary`, 404)),
    "GET /deployments/:id/badge": ids.map((id) => get(`/deployments/${id}/badge`, 404)),
    "GET /deployments/:id/log.txt": ids.map((id) => get(`/deployments/${id}/log.txt`, 404)),
    // The victim's production has a preview image (victim.ts): it shows a page that may be protected.
    "GET /deployments/:id/preview.png": ids.map((id) => get(`/deployments/${id}/preview.png`, 404)),
    "GET /deployments/:id/runtime-logs": ids.map((id) =>
      get(`/deployments/${id}/runtime-logs?range=1d`, 404),
    ),
    "POST /deployments/:id/cancel": [post(`/deployments/${v.queued}/cancel`, 404)],
    "POST /deployments/:id/redeploy": [post(`/deployments/${production}/redeploy`, 404)],
    "GET /deployments/:id/promote": [get(`/deployments/${older}/promote`, 404)],
    "POST /deployments/:id/promote": [post(`/deployments/${older}/promote`, 404)],
    "POST /deployments/:id/restart": ids.map((id) => post(`/deployments/${id}/restart`, 404)),
    // Teams: bob is in none of the victim's; a team he is not in is as missing as one that does not exist.
    "GET /teams": [get("/teams", 200)],
    "POST /scope": [post("/scope", 404, { team: t.slug })],
    "POST /teams": [post("/teams", 409, { slug: t.slug })],
    "GET /teams/:team": [get(`/teams/${t.slug}`, 404)],
    "POST /teams/:team/members/:userId/role": [
      post(`/teams/${t.slug}/members/${v.user.id}/role`, 404, { role: "viewer" }),
    ],
    "POST /teams/:team/members/:userId/remove": [post(`/teams/${t.slug}/members/${v.user.id}/remove`, 404)],
    "POST /teams/:team/leave": [post(`/teams/${t.slug}/leave`, 404)],
    "POST /teams/:team/delete": [post(`/teams/${t.slug}/delete`, 404)],
    "POST /teams/:team/invitations": [post(`/teams/${t.slug}/invitations`, 404, { role: "owner" })],
    "POST /teams/:team/invitations/:invitationId/revoke": [
      post(`/teams/${t.slug}/invitations/${t.invitationId}/revoke`, 404),
    ],
    // A guessed link opens nothing (the page itself is only a confirmation).
    "GET /invite/:token": [get(`/invite/inv_${"A".repeat(43)}`, 200)],
    "POST /invite/:token": [post(`/invite/inv_${"A".repeat(43)}`, 404)],
    "GET /teams/:team/audit": [get(`/teams/${t.slug}/audit`, 404)],
    "GET /audit": [get("/audit", 200)],
  };
}

async function visitorAs(user: User): Promise<Visitor> {
  const visitor = new Visitor(app);
  await signInAs(deps.store, visitor, user);
  return visitor;
}

describe("another account", () => {
  test("every dashboard route refuses the victim's resources with a 404 page, shows and changes nothing", async () => {
    const victim = await makeVictim(deps);
    // The victim is signed in somewhere too: Bob can neither list nor end that session.
    const { cookie } = await createSession(deps.store, victim.user.id, 3600);
    const sessionHash = hashSecret(cookie);
    const table = attempts({ ...victim, sessionHash });
    const routes = app.routes.map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(table).sort()).toEqual([...routes].sort());

    const bob = new Visitor(app);
    const bobUser = await signIn(deps.store, bob);
    const before = await victimState(deps, victim);
    const answers: { route: string; method: string; path: string; status: number }[] = [];
    const expected: typeof answers = [];
    const leaks: { route: string; secret: string }[] = [];
    for (const [route, tries] of Object.entries(table)) {
      for (const { method, path, form, status, ownSession } of tries) {
        const visitor = ownSession ? await visitorAs(bobUser) : bob;
        const res = method === "GET" ? await visitor.get(path) : await visitor.post(path, form);
        answers.push({ route, method, path, status: res.status });
        expected.push({ route, method, path, status });
        for (const secret of victim.secrets) if (res.text.includes(secret)) leaks.push({ route, secret });
      }
    }
    expect(answers).toEqual(expected);
    expect(leaks).toEqual([]);
    expect(await victimState(deps, victim)).toEqual(before);
    expect(await deps.store.sessions.get(sessionHash, new Date().toISOString())).not.toBeNull();
  }, 30_000);
});

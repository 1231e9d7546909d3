// Tenancy through the API's handler: another account gets 404 (403 or 401 on the build routes) on every route
// that names a victim's resource, learns nothing of the victim's from any answer, and changes nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { makeVictim, type Victim, victimState } from "../testing/victim.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let bob: Client;
/** A build token bob really has: the one of his own deployment's build. */
let bobBuildToken: string;

beforeAll(async () => {
  deps = await testDeps();
  bob = apiClient(deps, (await testUser(deps)).token);
  const own = obj(
    (await bob("POST", "/api/projects", { name: "Bob's", gitUrl: "https://git.example.com/bob/site.git" }))
      .body,
  );
  const build = obj((await bob("POST", "/api/deploy", { projectId: own.id })).body);
  bobBuildToken = deps.buildTokens.issue(String(build.id));
});
afterAll(() => deps.close());

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const errorCode = (body: unknown) => obj(obj(body).error).code;

interface Attempt {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
}

const attempt = (method: string, path: string, status: number, body?: unknown, headers = {}): Attempt => ({
  method,
  path,
  status,
  body,
  headers,
});

/**
 * What bob tries on each route of the API app, keyed as Elysia lists its routes. Every route naming a resource
 * is tried on the victim's; the others (bob's own account, public ones) are tried with what he knows of the
 * victim's. A route missing here fails the test: a new route must say how it keeps tenants apart.
 */
function attempts(v: Victim): Record<string, Attempt[]> {
  const p = v.project.id;
  const [older, production] = v.ready;
  const ids = [older, production, v.queued];
  const builder = { authorization: `Bearer ${bobBuildToken}` };
  // Bob's build token is for his own deployment (403); his API token is no build token at all (401).
  const asBuilder = (method: string, path: string, body?: unknown) => [
    attempt(method, path, 403, body, builder),
    attempt(method, path, 401, body),
  ];
  const push = JSON.stringify({ ref: "refs/heads/main", after: "c".repeat(40), repository: { id: 1 } });
  const guessed = createHmac("sha256", "bob's guess").update(push).digest("hex");
  const bobsFile = `bob's own file ${crypto.randomUUID()}`;
  return {
    "GET /api/openapi.json": [attempt("GET", "/api/openapi.json", 200)],
    "GET /api/docs": [attempt("GET", "/api/docs", 200)],
    "GET /api/health": [attempt("GET", "/api/health", 200)],
    "POST /api/hooks/:projectId/:provider": [
      attempt("POST", `/api/hooks/${p}/github`, 401, push, {
        "x-github-event": "push",
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${guessed}`,
      }),
      attempt("POST", `/api/hooks/${p}/gitlab`, 401, push, {
        "x-gitlab-event": "Push Hook",
        "x-gitlab-token": "bob's guess",
      }),
      attempt("POST", `/api/hooks/${p}/gitea`, 401, push, { "x-gitea-event": "push" }),
    ],
    "GET /api/projects": [
      attempt("GET", "/api/projects", 200),
      attempt("GET", `/api/projects?team=${v.team.slug}`, 404),
      attempt("GET", "/api/projects", 404, undefined, { "x-minivercel-team": v.team.slug }),
    ],
    "POST /api/projects": [
      attempt("POST", "/api/projects", 409, { name: "Squatter", subDomain: v.project.subDomain }),
      attempt("POST", "/api/projects", 409, { name: "Squatter", customDomain: v.project.customDomain }),
      attempt("POST", `/api/projects?team=${v.team.slug}`, 404, { name: "Planted" }),
    ],
    "GET /api/projects/:id": [attempt("GET", `/api/projects/${p}`, 404)],
    // Names no resource: bob may read any repository he can name, as the victim may (the victim's is unreachable).
    "POST /api/projects/detect": [
      attempt("POST", "/api/projects/detect", 422, { gitUrl: "https://git.example.com/victim/site.git" }),
    ],
    "PATCH /api/projects/:id": [
      attempt("PATCH", `/api/projects/${p}`, 404, { name: "pwned" }),
      attempt("PATCH", `/api/projects/${p}`, 404, { protection: "none" }),
    ],
    "POST /api/projects/:id/domain/verify": [attempt("POST", `/api/projects/${p}/domain/verify`, 404)],
    "GET /api/projects/:id/domains": [attempt("GET", `/api/projects/${p}/domains`, 404)],
    "POST /api/projects/:id/domains": [
      attempt("POST", `/api/projects/${p}/domains`, 404, { name: "stolen.example.org" }),
      attempt("POST", `/api/projects/${p}/domains`, 404, { name: "stolen.example.org", www: true }),
    ],
    "PATCH /api/projects/:id/domains/:domain": [
      attempt("PATCH", `/api/projects/${p}/domains/${v.project.customDomain}`, 404, { redirectTo: null }),
    ],
    "DELETE /api/projects/:id/domains/:domain": [
      attempt("DELETE", `/api/projects/${p}/domains/${v.project.customDomain}`, 404),
    ],
    "POST /api/projects/:id/domains/:domain/verify": [
      attempt("POST", `/api/projects/${p}/domains/${v.project.customDomain}/verify`, 404),
    ],
    "DELETE /api/projects/:id": [attempt("DELETE", `/api/projects/${p}`, 404)],
    "GET /api/projects/:id/deployments": [attempt("GET", `/api/projects/${p}/deployments`, 404)],
    "POST /api/deploy": [attempt("POST", "/api/deploy", 404, { projectId: p })],
    "GET /api/deployments/:id": ids.map((id) => attempt("GET", `/api/deployments/${id}`, 404)),
    "POST /api/deployments/:id/promote": [attempt("POST", `/api/deployments/${older}/promote`, 404)],
    "POST /api/projects/:id/rollback": [attempt("POST", `/api/projects/${p}/rollback`, 404)],
    "POST /api/deployments/:id/cancel": [attempt("POST", `/api/deployments/${v.queued}/cancel`, 404)],
    "GET /api/deployments/:id/app": ids.map((id) => attempt("GET", `/api/deployments/${id}/app`, 404)),
    "POST /api/deployments/:id/app/restart": ids.map((id) =>
      attempt("POST", `/api/deployments/${id}/app/restart`, 404),
    ),
    "GET /api/deployments/:id/logs/stream": ids.map((id) =>
      attempt("GET", `/api/deployments/${id}/logs/stream`, 404),
    ),
    "GET /api/deployments/:id/logs": ids.map((id) => attempt("GET", `/api/deployments/${id}/logs`, 404)),
    "GET /api/deployments/:id/runtime-logs": ids.map((id) =>
      attempt("GET", `/api/deployments/${id}/runtime-logs`, 404),
    ),
    "GET /api/deployments/:id/runtime-logs/stream": ids.map((id) =>
      attempt("GET", `/api/deployments/${id}/runtime-logs/stream`, 404),
    ),
    "GET /api/projects/:id/env": [attempt("GET", `/api/projects/${p}/env`, 404)],
    "GET /api/projects/:id/crons": [attempt("GET", `/api/projects/${p}/crons`, 404)],
    "PUT /api/projects/:id/env/:key": [
      attempt("PUT", `/api/projects/${p}/env/VICTIM_API_KEY`, 404, { value: "pwned" }),
      attempt("PUT", `/api/projects/${p}/env/BOBS_OWN`, 404, { value: "planted" }),
      attempt("PUT", `/api/projects/${p}/env/VICTIM_DB_URL`, 404, { value: "pwned", target: ["preview"] }),
      attempt("PUT", `/api/projects/${p}/env/VICTIM_DB_URL`, 404, { value: "pwned", target: ["production"] }),
    ],
    "DELETE /api/projects/:id/env/:key": [
      attempt("DELETE", `/api/projects/${p}/env/VICTIM_API_KEY`, 404),
      attempt("DELETE", `/api/projects/${p}/env/VICTIM_DB_URL?target=preview`, 404),
      attempt("DELETE", `/api/projects/${p}/env/VICTIM_DB_URL?target=production`, 404),
    ],
    "GET /api/builds/:id/source": asBuilder("GET", `/api/builds/${v.queued}/source`),
    "GET /api/builds/:id/source/:hash": asBuilder("GET", `/api/builds/${v.queued}/source/${v.blob.hash}`),
    "POST /api/builds/:id/events": asBuilder("POST", `/api/builds/${v.queued}/events`, [
      { kind: "status", deploymentId: v.queued, status: "FAIL" },
    ]),
    "POST /api/builds/:id/missing": asBuilder("POST", `/api/builds/${v.queued}/missing`, {
      hashes: [v.blob.hash],
    }),
    "PUT /api/builds/:id/blobs/:hash": asBuilder("PUT", `/api/builds/${v.queued}/blobs/${sha256("x")}`, "x"),
    "PUT /api/builds/:id/manifest": asBuilder("PUT", `/api/builds/${v.queued}/manifest`, {
      version: 1,
      deploymentId: v.queued,
      createdAt: new Date().toISOString(),
      files: {},
    }),
    // Blobs are stored once for everyone but answered and deployable per account: what bob learns and may
    // deploy of the victim's file by its hash is tested in scoped-blobs.contract.ts.
    "POST /api/files/missing": [attempt("POST", "/api/files/missing", 200, { hashes: [sha256(bobsFile)] })],
    "PUT /api/files/:hash": [attempt("PUT", `/api/files/${sha256(bobsFile)}`, 204, bobsFile)],
    "POST /api/projects/:id/deployments": [
      attempt("POST", `/api/projects/${p}/deployments`, 404, {
        files: { "/index.html": { hash: sha256(bobsFile), size: Buffer.byteLength(bobsFile) } },
        target: "production",
      }),
    ],
    "GET /api/user": [attempt("GET", "/api/user", 200)],
    "GET /api/tokens": [attempt("GET", "/api/tokens", 200)],
    "POST /api/tokens": [attempt("POST", "/api/tokens", 201, { name: "bob's token" })],
    "DELETE /api/tokens/:id": [attempt("DELETE", `/api/tokens/${v.tokenId}`, 404)],
    "GET /api/projects/:id/webhook": [attempt("GET", `/api/projects/${p}/webhook`, 404)],
    "PUT /api/projects/:id/protection/password": [
      attempt("PUT", `/api/projects/${p}/protection/password`, 404, { password: "bob's password" }),
    ],
    "DELETE /api/projects/:id/protection/password": [
      attempt("DELETE", `/api/projects/${p}/protection/password`, 404),
    ],
    "GET /api/projects/:id/protection/bypass": [attempt("GET", `/api/projects/${p}/protection/bypass`, 404)],
    "POST /api/projects/:id/protection/bypass": [
      attempt("POST", `/api/projects/${p}/protection/bypass`, 404, { name: "bob's bypass" }),
    ],
    "DELETE /api/projects/:id/protection/bypass/:tokenId": [
      attempt("DELETE", `/api/projects/${p}/protection/bypass/${v.bypassTokenId}`, 404),
    ],
    "GET /api/projects/:id/hooks": [attempt("GET", `/api/projects/${p}/hooks`, 404)],
    "POST /api/projects/:id/transfer": [
      attempt("POST", `/api/projects/${p}/transfer`, 404, { team: null }),
      attempt("POST", `/api/projects/${p}/transfer`, 404, { team: v.team.slug }),
    ],
    // Teams: bob is in none of the victim's; a team he is not in is as missing as one that does not exist.
    "GET /api/teams": [attempt("GET", "/api/teams", 200)],
    "POST /api/teams": [attempt("POST", "/api/teams", 409, { slug: v.team.slug })],
    "GET /api/teams/:team": [attempt("GET", `/api/teams/${v.team.slug}`, 404)],
    "DELETE /api/teams/:team": [attempt("DELETE", `/api/teams/${v.team.slug}`, 404)],
    "GET /api/teams/:team/members": [attempt("GET", `/api/teams/${v.team.slug}/members`, 404)],
    "PATCH /api/teams/:team/members/:userId": [
      attempt("PATCH", `/api/teams/${v.team.slug}/members/${v.user.id}`, 404, { role: "viewer" }),
    ],
    "DELETE /api/teams/:team/members/:userId": [
      attempt("DELETE", `/api/teams/${v.team.slug}/members/${v.user.id}`, 404),
    ],
    "POST /api/teams/:team/invitations": [
      attempt("POST", `/api/teams/${v.team.slug}/invitations`, 404, { role: "owner" }),
    ],
    "GET /api/teams/:team/invitations": [attempt("GET", `/api/teams/${v.team.slug}/invitations`, 404)],
    "DELETE /api/teams/:team/invitations/:invitationId": [
      attempt("DELETE", `/api/teams/${v.team.slug}/invitations/${v.team.invitationId}`, 404),
    ],
    // A guessed token opens nothing (the victim's real link is tested in src/api/teams.test.ts).
    "POST /api/invitations/accept": [
      attempt("POST", "/api/invitations/accept", 404, { token: `inv_${"A".repeat(43)}` }),
    ],
    "GET /api/teams/:team/audit": [attempt("GET", `/api/teams/${v.team.slug}/audit`, 404)],
    "GET /api/audit": [attempt("GET", "/api/audit", 200)],

    "GET /api/projects/:id/analytics": [
      attempt("GET", `/api/projects/${p}/analytics`, 404),
      attempt("GET", `/api/projects/${p}/analytics?range=month&format=csv`, 404),
    ],
    "POST /api/projects/:id/hooks": [
      attempt("POST", `/api/projects/${p}/hooks`, 404, {
        url: "https://203.0.113.66/bob",
        events: ["deployment.ready"],
      }),
    ],
    "DELETE /api/projects/:id/hooks/:hookId": [
      attempt("DELETE", `/api/projects/${p}/hooks/${v.hookId}`, 404),
    ],
    "GET /api/projects/:id/hooks/:hookId/deliveries": [
      attempt("GET", `/api/projects/${p}/hooks/${v.hookId}/deliveries`, 404),
    ],
    "POST /api/projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver": [
      attempt("POST", `/api/projects/${p}/hooks/${v.hookId}/deliveries/${v.deliveryId}/redeliver`, 404),
    ],
    "GET /api/projects/:id/git-provider": [attempt("GET", `/api/projects/${p}/git-provider`, 404)],
    "PUT /api/projects/:id/git-provider": [
      attempt("PUT", `/api/projects/${p}/git-provider`, 404, {
        kind: "github",
        token: "ghp_bobs_own_token",
        apiUrl: "https://203.0.113.66/bob",
        repository: "bob/site",
      }),
    ],
    "DELETE /api/projects/:id/git-provider": [attempt("DELETE", `/api/projects/${p}/git-provider`, 404)],
  };
}

describe("another account", () => {
  test("every route of the API refuses the victim's resources (404/403/401), reveals and changes nothing", async () => {
    const victim = await makeVictim(deps);
    const table = attempts(victim);
    const routes = createApi(deps).routes.map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(table).sort()).toEqual([...routes].sort());

    const before = await victimState(deps, victim);
    const answers: { route: string; method: string; path: string; status: number }[] = [];
    const expected: typeof answers = [];
    const leaks: { route: string; secret: string }[] = [];
    for (const [route, tries] of Object.entries(table)) {
      for (const { method, path, body, headers, status } of tries) {
        const res = await bob(method, path, body, headers);
        answers.push({ route, method, path, status: res.status });
        expected.push({ route, method, path, status });
        const text = typeof res.body === "string" ? res.body : JSON.stringify(res.body);
        for (const secret of victim.secrets) if (text.includes(secret)) leaks.push({ route, secret });
      }
    }
    expect(answers).toEqual(expected);
    expect(leaks).toEqual([]);
    expect(await victimState(deps, victim)).toEqual(before);
  }, 30_000);

  test("cannot promote a READY deployment of someone else's project: 404, production unchanged", async () => {
    const victim = await makeVictim(deps);
    const [older, production] = victim.ready;
    const project = `/api/projects/${victim.project.id}`;
    const res = await bob("POST", `/api/deployments/${older}/promote`);
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("not_found");
    expect(obj((await victim.api("GET", project)).body).productionDeploymentId).toBe(production);
    // The deployment itself can be promoted: by its owner.
    expect((await victim.api("POST", `/api/deployments/${older}/promote`)).status).toBe(200);
    expect(obj((await victim.api("GET", project)).body).productionDeploymentId).toBe(older);
  });

  test("cannot delete someone else's env var: 404, the variable and its value unchanged", async () => {
    const victim = await makeVictim(deps);
    const path = `/api/projects/${victim.project.id}/env/VICTIM_API_KEY`;
    const before = await victimState(deps, victim);
    const res = await bob("DELETE", path);
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("not_found");
    expect(await victimState(deps, victim)).toEqual(before);
    expect(before.envValues.VICTIM_API_KEY).toBe(victim.env.VICTIM_API_KEY);
    // The owner can.
    expect((await victim.api("DELETE", path)).status).toBe(204);
    expect((await victimState(deps, victim)).envValues.VICTIM_API_KEY).toBeUndefined();
  });

  test("cannot set or remove someone else's variable for one target: 404, both values unchanged", async () => {
    const victim = await makeVictim(deps);
    const path = `/api/projects/${victim.project.id}/env/VICTIM_DB_URL`;
    const before = await victimState(deps, victim);
    expect(before.envValues.VICTIM_DB_URL).toBe(victim.env.VICTIM_DB_URL);
    expect(before.previewEnvValues.VICTIM_DB_URL).toBe(victim.previewEnv.VICTIM_DB_URL);
    for (const target of ["production", "preview"]) {
      const set = await bob("PUT", path, { value: "postgres://bob@evil/db", target: [target] });
      expect([set.status, errorCode(set.body)]).toEqual([404, "not_found"]);
      const removed = await bob("DELETE", `${path}?target=${target}`);
      expect([removed.status, errorCode(removed.body)]).toEqual([404, "not_found"]);
    }
    expect(await victimState(deps, victim)).toEqual(before);
    // The owner can: previews lose theirs, production keeps its value.
    expect((await victim.api("DELETE", `${path}?target=preview`)).status).toBe(204);
    const after = await victimState(deps, victim);
    expect([after.envValues.VICTIM_DB_URL, after.previewEnvValues.VICTIM_DB_URL]).toEqual([
      victim.env.VICTIM_DB_URL,
      undefined,
    ]);
  });
});

// The role x route matrix through the API's handler: for a team's owner, member and viewer and an account outside
// the team, every route is allowed or refused as the table says. Outsiders get 404 (as for a missing resource),
// a role too weak gets 403 with a JSON error; every route of the API is in the table.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { obj, testDeps } from "../testing/deps.ts";
import { makeTeamFixture, ROLES, type TeamFixture, type Who } from "../testing/team-fixture.ts";
import { createApi } from "./app.ts";

let deps: Deps;
let f: TeamFixture;
let api: ReturnType<typeof createApi>;

beforeAll(async () => {
  deps = await testDeps();
  api = createApi(deps, { peer: () => "203.0.113.9" });
  f = await makeTeamFixture(deps);
  // A variable for each role that may remove one, so each finds its own.
  for (const who of ROLES)
    await f.people.owner.api("PUT", `/api/projects/${f.project.id}/env/KEY_${who}`, { value: who });
}, 60_000);
afterAll(() => deps.close());

/** Expected status per role: owner, member, viewer, outsider. */
type Cells = [number, number, number, number];
interface Row {
  method: string;
  path: (who: Who) => string;
  body?: (who: Who) => unknown;
  headers?: Record<string, string>;
  expect: Cells;
}
const row = (
  method: string,
  path: string | ((who: Who) => string),
  expect: Cells,
  body?: (who: Who) => unknown,
): Row => ({
  method,
  path: typeof path === "string" ? () => path : path,
  body,
  expect,
});
const same = (status: number): Cells => [status, status, status, status];
/** Reads: every member; writes of members (deploy, promote, env, domains); owners' (settings, members). */
const READ = (ok: number): Cells => [ok, ok, ok, 404];
const WRITE = (ok: number): Cells => [ok, ok, 403, 404];
const ADMIN = (ok: number): Cells => [ok, 403, 403, 404];

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** The table, keyed as Elysia lists the API's routes; rows run in this order, each for outsider, viewer, member, owner. */
function table(): Record<string, Row[]> {
  const p = f.project.id;
  const t = f.slug;
  const [older, production] = f.ready;
  const blob = f.blob;
  const guessedInvitation = { token: `inv_${"B".repeat(43)}` };
  return {
    "GET /api/openapi.json": [row("GET", "/api/openapi.json", same(200))],
    "GET /api/docs": [row("GET", "/api/docs", same(200))],
    "GET /api/health": [row("GET", "/api/health", same(200))],
    "GET /api/user": [row("GET", "/api/user", same(200))],
    "GET /api/tokens": [row("GET", "/api/tokens", same(200))],
    "POST /api/tokens": [row("POST", "/api/tokens", same(201), (who) => ({ name: `${who}'s` }))],
    "DELETE /api/tokens/:id": [row("DELETE", `/api/tokens/${crypto.randomUUID()}`, same(404))],
    // Uploads are each account's own: every role uploads the team's file itself before deploying it.
    "POST /api/files/missing": [
      row("POST", "/api/files/missing", same(200), () => ({ hashes: [blob.hash] })),
    ],
    "PUT /api/files/:hash": [row("PUT", `/api/files/${blob.hash}`, same(204), () => blob.content)],
    "GET /api/teams": [row("GET", "/api/teams", same(200))],
    "POST /api/teams": [row("POST", "/api/teams", same(201), (who) => ({ slug: `${t}-${who}` }))],
    "POST /api/invitations/accept": [
      row("POST", "/api/invitations/accept", same(404), () => guessedInvitation),
    ],
    "GET /api/audit": [row("GET", "/api/audit", same(200))],
    "GET /api/projects": [row("GET", `/api/projects?team=${t}`, READ(200))],
    "POST /api/projects": [
      row("POST", `/api/projects?team=${t}`, WRITE(201), (who) => ({ name: `By ${who}` })),
    ],
    // Detection reads a repository, nothing of a project: any account may ask (a bad URL is a 422 for everyone).
    "POST /api/projects/detect": [
      row("POST", "/api/projects/detect", same(422), () => ({ gitUrl: "not a repository" })),
    ],
    "GET /api/projects/:id": [row("GET", `/api/projects/${p}`, READ(200))],
    // Before any custom domain is set: verifying then is a 422 for those allowed to try.
    "POST /api/projects/:id/domain/verify": [row("POST", `/api/projects/${p}/domain/verify`, WRITE(422))],
    "PATCH /api/projects/:id": [
      row("PATCH", `/api/projects/${p}`, ADMIN(200), () => ({ buildCommand: "make" })),
      row("PATCH", `/api/projects/${p}`, ADMIN(200), () => ({ protection: "all" })),
      // Domains are the members' too.
      row("PATCH", `/api/projects/${p}`, WRITE(200), (who) => ({ customDomain: `${who}.acme.example.org` })),
    ],
    // Several custom domains: the members' too. Verifying one the project lacks is a 404 for those who may try.
    "GET /api/projects/:id/domains": [row("GET", `/api/projects/${p}/domains`, READ(200))],
    "POST /api/projects/:id/domains": [
      row("POST", `/api/projects/${p}/domains`, WRITE(201), (who) => ({ name: `add-${who}.example.net` })),
    ],
    "PATCH /api/projects/:id/domains/:domain": [
      row(
        "PATCH",
        (who) => `/api/projects/${p}/domains/add-${who}.example.net`,
        WRITE(200),
        () => ({
          redirectTo: null,
        }),
      ),
    ],
    "POST /api/projects/:id/domains/:domain/verify": [
      row("POST", `/api/projects/${p}/domains/none.example.net/verify`, [404, 404, 403, 404]),
    ],
    "DELETE /api/projects/:id/domains/:domain": [
      row("DELETE", (who) => `/api/projects/${p}/domains/add-${who}.example.net`, WRITE(204)),
    ],
    "GET /api/projects/:id/deployments": [row("GET", `/api/projects/${p}/deployments`, READ(200))],
    "GET /api/projects/:id/analytics": [
      row("GET", `/api/projects/${p}/analytics`, READ(200)),
      row("GET", `/api/projects/${p}/analytics?range=week&format=csv`, READ(200)),
    ],
    "POST /api/deploy": [row("POST", "/api/deploy", WRITE(201), () => ({ projectId: p }))],
    "GET /api/deployments/:id": [row("GET", `/api/deployments/${older}`, READ(200))],
    "POST /api/deployments/:id/promote": [row("POST", `/api/deployments/${older}/promote`, WRITE(200))],
    "POST /api/projects/:id/rollback": [row("POST", `/api/projects/${p}/rollback`, WRITE(200))],
    "POST /api/deployments/:id/cancel": [
      row("POST", (who) => `/api/deployments/${f.queued[who]}/cancel`, WRITE(200)),
    ],
    // No app server in a static deployment: those who may look are told so (404 app server).
    "GET /api/deployments/:id/app": [row("GET", `/api/deployments/${production}/app`, same(404))],
    "POST /api/deployments/:id/app/restart": [
      row("POST", `/api/deployments/${production}/app/restart`, [404, 404, 403, 404]),
    ],
    "GET /api/deployments/:id/logs/stream": [
      row("GET", `/api/deployments/${production}/logs/stream`, READ(200)),
    ],
    "GET /api/deployments/:id/logs": [row("GET", `/api/deployments/${production}/logs`, READ(200))],
    "GET /api/deployments/:id/runtime-logs": [
      row("GET", `/api/deployments/${production}/runtime-logs`, READ(200)),
    ],
    "GET /api/deployments/:id/runtime-logs/stream": [
      row("GET", `/api/deployments/${production}/runtime-logs/stream`, READ(200)),
    ],
    "GET /api/projects/:id/env": [row("GET", `/api/projects/${p}/env`, READ(200))],
    "PUT /api/projects/:id/env/:key": [
      row("PUT", `/api/projects/${p}/env/SHARED_KEY`, WRITE(204), (who) => ({ value: who })),
    ],
    "DELETE /api/projects/:id/env/:key": [
      row("DELETE", (who) => `/api/projects/${p}/env/KEY_${who}`, WRITE(204)),
    ],
    "GET /api/projects/:id/crons": [row("GET", `/api/projects/${p}/crons`, READ(200))],
    "POST /api/projects/:id/deployments": [
      row("POST", `/api/projects/${p}/deployments`, WRITE(201), () => ({
        files: { "/index.html": { hash: blob.hash, size: blob.size } },
        target: "preview",
      })),
    ],
    "GET /api/builds/:id/source": [row("GET", `/api/builds/${production}/source`, same(401))],
    "GET /api/builds/:id/source/:hash": [
      row("GET", `/api/builds/${production}/source/${blob.hash}`, same(401)),
    ],
    "POST /api/builds/:id/events": [row("POST", `/api/builds/${production}/events`, same(401), () => [])],
    "POST /api/builds/:id/missing": [
      row("POST", `/api/builds/${production}/missing`, same(401), () => ({ hashes: [] })),
    ],
    "PUT /api/builds/:id/blobs/:hash": [
      row("PUT", `/api/builds/${production}/blobs/${sha256("x")}`, same(401), () => "x"),
    ],
    "PUT /api/builds/:id/manifest": [row("PUT", `/api/builds/${production}/manifest`, same(401), () => ({}))],
    "GET /api/projects/:id/webhook": [row("GET", `/api/projects/${p}/webhook`, ADMIN(200))],
    // Now that the project has a webhook secret: a delivery without its signature is refused, whoever sends it.
    "POST /api/hooks/:projectId/:provider": [
      row("POST", `/api/hooks/${p}/gitea`, same(401), () => ({ ref: "refs/heads/main" })),
    ],
    "PUT /api/projects/:id/protection/password": [
      row("PUT", `/api/projects/${p}/protection/password`, ADMIN(204), () => ({
        password: "a team password",
      })),
    ],
    "DELETE /api/projects/:id/protection/password": [
      row("DELETE", `/api/projects/${p}/protection/password`, ADMIN(204)),
    ],
    "GET /api/projects/:id/protection/bypass": [
      row("GET", `/api/projects/${p}/protection/bypass`, ADMIN(200)),
    ],
    "POST /api/projects/:id/protection/bypass": [
      row("POST", `/api/projects/${p}/protection/bypass`, ADMIN(201), (who) => ({ name: `by ${who}` })),
    ],
    "DELETE /api/projects/:id/protection/bypass/:tokenId": [
      row("DELETE", `/api/projects/${p}/protection/bypass/${f.bypassTokenId}`, ADMIN(204)),
    ],
    "GET /api/projects/:id/hooks": [row("GET", `/api/projects/${p}/hooks`, ADMIN(200))],
    "POST /api/projects/:id/hooks": [
      row("POST", `/api/projects/${p}/hooks`, ADMIN(201), () => ({
        url: "https://203.0.113.11/hook",
        events: ["deployment.ready"],
      })),
    ],
    "GET /api/projects/:id/hooks/:hookId/deliveries": [
      row("GET", `/api/projects/${p}/hooks/${f.hookId}/deliveries`, ADMIN(200)),
    ],
    "POST /api/projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver": [
      row("POST", `/api/projects/${p}/hooks/${f.hookId}/deliveries/${f.deliveryId}/redeliver`, ADMIN(202)),
    ],
    "DELETE /api/projects/:id/hooks/:hookId": [
      row("DELETE", `/api/projects/${p}/hooks/${f.hookId}`, ADMIN(204)),
    ],
    // Commit statuses: the owners' setting, like outgoing hooks.
    "GET /api/projects/:id/git-provider": [row("GET", `/api/projects/${p}/git-provider`, ADMIN(200))],
    "PUT /api/projects/:id/git-provider": [
      row("PUT", `/api/projects/${p}/git-provider`, ADMIN(200), () => ({
        kind: "github",
        token: "ghp_matrix_token_1234",
        apiUrl: "https://203.0.113.20/api/v3",
        repository: "team/site",
      })),
    ],
    "DELETE /api/projects/:id/git-provider": [row("DELETE", `/api/projects/${p}/git-provider`, ADMIN(204))],
    "POST /api/projects/:id/transfer": [
      row("POST", `/api/projects/${f.spare}/transfer`, ADMIN(200), () => ({ team: null })),
    ],
    "GET /api/teams/:team": [row("GET", `/api/teams/${t}`, READ(200))],
    "GET /api/teams/:team/members": [row("GET", `/api/teams/${t}/members`, READ(200))],
    "PATCH /api/teams/:team/members/:userId": [
      row("PATCH", `/api/teams/${t}/members/${f.extras[0].user.id}`, ADMIN(200), () => ({ role: "viewer" })),
    ],
    "DELETE /api/teams/:team/members/:userId": [
      row("DELETE", `/api/teams/${t}/members/${f.extras[1].user.id}`, ADMIN(204)),
    ],
    "POST /api/teams/:team/invitations": [
      row("POST", `/api/teams/${t}/invitations`, ADMIN(201), () => ({ role: "viewer" })),
    ],
    "GET /api/teams/:team/invitations": [row("GET", `/api/teams/${t}/invitations`, ADMIN(200))],
    "DELETE /api/teams/:team/invitations/:invitationId": [
      row("DELETE", `/api/teams/${t}/invitations/${f.invitationId}`, ADMIN(204)),
    ],
    "GET /api/teams/:team/audit": [row("GET", `/api/teams/${t}/audit`, ADMIN(200))],
    // The owner may, but not while the team has projects: they must be moved or deleted first.
    "DELETE /api/teams/:team": [row("DELETE", `/api/teams/${t}`, ADMIN(409))],
    "DELETE /api/projects/:id": [row("DELETE", `/api/projects/${p}`, ADMIN(204))],
  };
}

/** One request as `who`; a stream's body is not read (its status is the answer). */
async function call(who: Who, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${f.people[who].token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const res = await api.handle(new Request(`http://localhost${path}`, { method, headers, body: payload }));
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, body: null };
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

const ORDER: Who[] = ["none", "viewer", "member", "owner"];
const COLUMN: Record<Who, number> = { owner: 0, member: 1, viewer: 2, none: 3 };

describe("role x route matrix (API)", () => {
  test("every route answers each role as the table says; refusals are JSON errors", async () => {
    const rows = table();
    const routes = createApi(deps).routes.map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(rows).sort()).toEqual([...routes].sort());
    const answers: string[] = [];
    const expected: string[] = [];
    const badRefusals: string[] = [];
    for (const [route, tries] of Object.entries(rows)) {
      for (const r of tries) {
        for (const who of ORDER) {
          const path = r.path(who);
          const res = await call(who, r.method, path, r.body?.(who));
          answers.push(`${route} ${path} as ${who}: ${res.status}`);
          expected.push(`${route} ${path} as ${who}: ${r.expect[COLUMN[who]]}`);
          if (res.status === 403 || res.status === 404) {
            const code = obj(obj(res.body).error).code;
            if (code !== (res.status === 403 ? "forbidden" : "not_found"))
              badRefusals.push(`${route} as ${who}`);
          }
        }
      }
    }
    expect(answers).toEqual(expected);
    expect(badRefusals).toEqual([]);
  }, 60_000);
});

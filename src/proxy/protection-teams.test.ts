// Deployment protection for a team's project, through the real roles (api with the dashboard, and the proxy on
// real sockets): every member of the team, a viewer too, signs in to its protected previews; an account outside
// the team does not; a member removed from the team is refused at once, the cookie they hold included.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { createSession } from "../identity/accounts.ts";
import { cookieName, SESSION_COOKIE } from "../identity/authenticate.ts";
import type { Project, User } from "../model/entities.ts";
import { deploymentHostId } from "../model/urls.ts";
import { type Running, startRoles } from "../roles.ts";
import { testDeps } from "../testing/deps.ts";
import { deploySite, eventually } from "../testing/sites.ts";
import { makeTeamFixture, type TeamFixture } from "../testing/team-fixture.ts";
import { ACCESS_COOKIE } from "./protection.ts";

const SECRET = "<h1>team preview secret 41c2</h1>";

let deps: Deps;
let roles: Running;
let proxyPort: number;
let apiOrigin: string;
let f: TeamFixture;

beforeAll(async () => {
  deps = await testDeps({
    MINIVERCEL_ROLE: "api,proxy",
    PORT: "0",
    PROXY_PORT: "0",
    LISTEN_HOST: "127.0.0.1",
    DEPLOYMENT_PROTECTION_DEFAULT: "previews",
    // Changes must reach the proxy through route announcements, not the periodic reload.
    PROXY_RECONCILE_SECONDS: "3600",
  });
  roles = await startRoles(deps);
  proxyPort = Number(/:(\d+)$/.exec(roles.urls.proxy ?? "")?.[1]);
  apiOrigin = roles.urls.api?.replace("localhost", "127.0.0.1") ?? "";
  f = await makeTeamFixture(deps);
}, 60_000);

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

const visit = (host: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${proxyPort}${path}`, {
    headers: { host: `${host}:${proxyPort}`, ...headers },
    redirect: "manual",
  });

async function dashboard(url: string, user: User): Promise<Response> {
  const target = new URL(url);
  const { cookie } = await createSession(deps.store, user.id, 600);
  const headers = { cookie: `${cookieName(SESSION_COOKIE, new Request(apiOrigin))}=${cookie}` };
  return fetch(`${apiOrigin}${target.pathname}${target.search}`, { headers, redirect: "manual" });
}

/** Signs `user` in to the protected host the way a browser would: refused, authorize, hand-off, cookie. */
async function signInTo(host: string, user: User): Promise<{ status: number; cookie: string | null }> {
  const refused = await visit(host, "/");
  expect(refused.status).toBe(302);
  const granted = await dashboard(refused.headers.get("location") ?? "", user);
  if (granted.status !== 303) return { status: granted.status, cookie: null };
  const handoff = new URL(granted.headers.get("location") ?? "");
  const exchanged = await visit(host, `${handoff.pathname}${handoff.search}`);
  const set = exchanged.headers.getSetCookie().find((c) => c.startsWith(`${ACCESS_COOKIE}=`));
  return { status: exchanged.status, cookie: set ? (set.split(";")[0] ?? null) : null };
}

test("a team's members (a viewer too) open its protected previews; outsiders and removed members do not", async () => {
  const project = (await deps.store.projects.find(f.project.id)) as Project;
  await deps.store.protection.setMode(project.id, "previews");
  const preview = await deploySite(
    deps,
    project,
    { "index.html": SECRET },
    { target: "preview", branch: "wip" },
  );
  const host = `${project.subDomain}--${deploymentHostId(preview.id)}.localhost`;
  await eventually(async () => expect((await visit(host, "/")).status).toBe(302), 5000);

  const outsider = await signInTo(host, f.people.none.user);
  expect(outsider).toEqual({ status: 403, cookie: null });

  const viewer = await signInTo(host, f.people.viewer.user);
  expect(viewer.status).toBe(302);
  const page = await visit(host, "/", { cookie: viewer.cookie ?? "" });
  expect([page.status, await page.text()]).toEqual([200, SECRET]);

  // The owner removes the viewer: every proxy hears of it, and the cookie they hold opens nothing any more.
  const removed = await f.people.owner.api(
    "DELETE",
    `/api/teams/${f.slug}/members/${f.people.viewer.user.id}`,
  );
  expect(removed.status).toBe(204);
  await eventually(async () => {
    const after = await visit(host, "/", { cookie: viewer.cookie ?? "" });
    expect(after.status).toBe(302);
    expect(await after.text()).not.toContain("secret");
  }, 5000);
  expect((await signInTo(host, f.people.viewer.user)).status).toBe(403);
}, 60_000);

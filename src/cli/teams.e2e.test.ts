// `minivercel teams` and `--team` as users run them against a real api role: the role x command matrix (owner,
// member, viewer, outsider: each command allowed, or refused in one line with exit 1 for a role too weak and 2
// for a team or project the account cannot see), and creating, switching and leaving teams.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Deps } from "../deps.ts";
import { type Running, startRoles } from "../roles.ts";
import { tempDir, testDeps } from "../testing/deps.ts";
import { makeTeamFixture, type TeamFixture, type Who } from "../testing/team-fixture.ts";

const MAIN = resolve(import.meta.dir, "..", "main.ts");

let deps: Deps;
let roles: Running;
let f: TeamFixture;
const homes = {} as Record<Who, string>;

beforeAll(async () => {
  deps = await testDeps({ PORT: "0", LISTEN_HOST: "127.0.0.1", MINIVERCEL_ROLE: "api" });
  roles = await startRoles(deps);
  f = await makeTeamFixture(deps);
  for (const who of ["owner", "member", "viewer", "none"] as const)
    homes[who] = tempDir(`minivercel-cli-${who}-`);
}, 120_000);

afterAll(async () => {
  await roles.stop();
  await deps.close();
});

async function cli(who: Who, args: string[], extraEnv: Record<string, string> = {}) {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: homes[who],
    MINIVERCEL_URL: (roles.urls.api ?? "").replace("localhost", "127.0.0.1"),
    MINIVERCEL_TOKEN: f.people[who].token,
    ...extraEnv,
  };
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: homes[who],
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

/** Exit codes per role: owner, member, viewer, outsider. 0 allowed; 1 refused by role (403); 2 not visible (404). */
type Cells = [number, number, number, number];
const READ: Cells = [0, 0, 0, 2];
const WRITE: Cells = [0, 0, 1, 2];
const ADMIN: Cells = [0, 1, 1, 2];

describe("role x command matrix (CLI)", () => {
  test("every command answers each role as the table says, refusals in one line", async () => {
    const p = f.project.id;
    const t = f.slug;
    const [older, production] = f.ready;
    const rows: [string[], Cells][] = [
      [["projects", "--team", t], READ],
      [["ls", "--project", p], READ],
      [["logs", production], READ],
      [["env", "ls", "--project", p], READ],
      [["env", "set", "CLI_KEY", "v", "--project", p], WRITE],
      [["promote", older], WRITE],
      [["rollback", "--project", p], WRITE],
      [["protection", "--project", p], ADMIN],
      [["hooks", "ls", "--project", p], ADMIN],
      [["teams", "members", "--team", t], READ],
      [["teams", "invite", "--team", t, "--role", "viewer"], ADMIN],
    ];
    const answers: string[] = [];
    const expected: string[] = [];
    const multiline: string[] = [];
    for (const [args, cells] of rows) {
      for (const [i, who] of (["owner", "member", "viewer", "none"] as const).entries()) {
        const res = await cli(who, args);
        answers.push(`${args.join(" ")} as ${who}: ${res.code}`);
        expected.push(`${args.join(" ")} as ${who}: ${cells[i]}`);
        if (res.code !== 0 && res.stderr.trim().split("\n").length !== 1)
          multiline.push(`${args.join(" ")} as ${who}`);
      }
    }
    expect(answers).toEqual(expected);
    expect(multiline).toEqual([]);
  }, 120_000);
});

describe("teams commands", () => {
  test("create, switch (saved), deploy into the team, invite, accept by API, members, leave", async () => {
    const slug = `cli-${crypto.randomUUID().slice(0, 6)}`;
    const bad = await cli("none", ["teams", "create", "Bad Slug"]);
    expect([bad.code, bad.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(bad.stderr).toContain("slug");
    expect((await cli("none", ["teams", "create", slug, "--name", "CLI team"])).code).toBe(0);
    const switched = await cli("none", ["teams", "switch", slug]);
    expect(switched.code).toBe(0);
    const config = JSON.parse(readFileSync(join(homes.none, ".config", "minivercel", "config.json"), "utf8"));
    expect(config.team).toBe(slug);
    const listed = await cli("none", ["teams", "ls"]);
    expect(listed.stdout).toContain(`* ${slug}`);
    // With the saved team, a new project is the team's.
    const site = tempDir("minivercel-cli-site-");
    await Bun.write(join(site, "index.html"), "<h1>team site</h1>");
    const deployed = await cli("none", ["deploy", site, "--prebuilt", "--json"]);
    expect(deployed.code).toBe(0);
    const team = await deps.store.teams.bySlug(slug);
    const inTeam = await deps.store.projects.list(
      f.people.none.user.id,
      { limit: 10, cursor: null },
      team?.id,
    );
    expect(inTeam.items.map((p) => p.teamId)).toEqual([team?.id ?? ""]);
    expect(deployed.stdout).toContain(inTeam.items[0]?.id ?? "missing");
    const personal = await cli("none", ["projects", "--team", ""]);
    expect(personal.code).toBe(0);

    const invite = await cli("none", ["teams", "invite", "--role", "viewer"]);
    expect(invite.code).toBe(0);
    const token = invite.stdout.trim().split("/invite/")[1] ?? "";
    expect((await f.people.viewer.api("POST", "/api/invitations/accept", { token })).status).toBe(200);
    const members = await cli("none", ["teams", "members"]);
    expect(members.stdout).toContain(f.people.viewer.user.email);
    const badRole = await cli("none", ["teams", "invite", "--role", "admin"]);
    expect([badRole.code, badRole.stderr.trim().split("\n").length]).toEqual([2, 1]);

    const last = await cli("none", ["teams", "leave"]);
    expect(last.code).toBe(2);
    expect(last.stderr).toContain("owner");
    expect((await cli("viewer", ["teams", "leave", "--team", slug])).code).toBe(0);
    expect((await cli("none", ["teams", "rm-member", "nobody@example.com"])).code).toBe(2);
    expect((await cli("none", ["teams", "switch", "personal"])).code).toBe(0);
  }, 120_000);
});

// Test support for the role matrix: a team with an owner, a member and a viewer (each joined by an invitation
// link), an outsider, and one of every kind of team resource, made through the API as its people would.

import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import { apiClient, type Client, obj, testUser } from "./deps.ts";

export const ROLES = ["owner", "member", "viewer", "none"] as const;
/** Who tries: the team's owner, member and viewer, and an account outside the team. */
export type Who = (typeof ROLES)[number];

export interface Person {
  user: User;
  token: string;
  api: Client;
}

export interface TeamFixture {
  slug: string;
  people: Record<Who, Person>;
  /** Two more members, whose role the owner changes and whom the owner removes. */
  extras: [Person, Person];
  project: { id: string; subDomain: string };
  /** A second project of the team, which its owner moves to their personal scope. */
  spare: string;
  ready: [string, string];
  /** A QUEUED deployment for each role that may cancel one (member, owner), so each finds one to cancel. */
  queued: Record<Who, string>;
  hookId: string;
  deliveryId: string;
  bypassTokenId: string;
  invitationId: string;
  blob: { hash: string; size: number; content: string };
}

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

async function ok(response: Promise<{ status: number; body: unknown }>, what: string) {
  const res = await response;
  if (res.status >= 300)
    throw new Error(`team fixture: ${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body === null ? {} : obj(res.body);
}

async function person(deps: Deps, label: string): Promise<Person> {
  const { user, token } = await testUser(deps, `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`);
  return { user, token, api: apiClient(deps, token) };
}

/** Joins `who` to the team through an invitation link made by the owner. */
export async function join(owner: Person, slug: string, who: Person, role: string): Promise<void> {
  const link = await ok(owner.api("POST", `/api/teams/${slug}/invitations`, { role }), `invite ${role}`);
  await ok(who.api("POST", "/api/invitations/accept", { token: link.token }), `accept ${role}`);
}

export async function makeTeamFixture(deps: Deps): Promise<TeamFixture> {
  const tag = crypto.randomUUID().slice(0, 8);
  const people: Record<Who, Person> = {
    owner: await person(deps, "owner"),
    member: await person(deps, "member"),
    viewer: await person(deps, "viewer"),
    none: await person(deps, "outsider"),
  };
  const extras: [Person, Person] = [await person(deps, "extra"), await person(deps, "extra")];
  const { owner } = people;
  const slug = `acme-${tag}`;
  await ok(owner.api("POST", "/api/teams", { slug, name: `Acme ${tag}` }), "create team");
  await join(owner, slug, people.member, "member");
  await join(owner, slug, people.viewer, "viewer");
  for (const extra of extras) await join(owner, slug, extra, "member");

  const project = await ok(
    owner.api("POST", `/api/projects?team=${slug}`, {
      name: `Team site ${tag}`,
      subDomain: `team-${tag}`,
      gitUrl: "https://git.example.com/acme/site.git",
    }),
    "team project",
  );
  const id = String(project.id);
  const spare = await ok(
    owner.api("POST", "/api/projects", { name: `Spare ${tag}` }, { "x-minivercel-team": slug }),
    "spare project",
  );
  await ok(owner.api("PUT", `/api/projects/${id}/env/SHARED_KEY`, { value: `v-${tag}` }), "env");

  const content = `<h1>team page ${tag}</h1>`;
  const blob = { hash: sha256(content), size: Buffer.byteLength(content), content };
  await ok(owner.api("PUT", `/api/files/${blob.hash}`, content), "upload");
  const file = { hash: blob.hash, size: blob.size };
  const ready: string[] = [];
  for (const version of ["v1", "v2"]) {
    const deployed = await ok(
      owner.api("POST", `/api/projects/${id}/deployments`, {
        files: { "/index.html": file, [`/${version}.txt`]: file },
        target: "production",
      }),
      `deploy ${version}`,
    );
    ready.push(String(obj(deployed.deployment).id));
  }
  const queued = {} as Record<Who, string>;
  for (const who of ["owner", "member", "viewer", "none"] as const) {
    // A branch each: a newer deployment of the same branch would cancel (supersede) a queued one.
    const deploy = { projectId: id, branch: `queued-${who}` };
    queued[who] = String((await ok(owner.api("POST", "/api/deploy", deploy), "queue")).id);
  }
  const hook = await ok(
    owner.api("POST", `/api/projects/${id}/hooks`, {
      url: `https://203.0.113.10/hooks/${tag}`,
      events: ["deployment.ready"],
    }),
    "hook",
  );
  const hookId = String(obj(hook.hook).id);
  await deps.store.outgoingHooks.enqueue(
    id,
    "deployment.ready",
    JSON.stringify({ tag }),
    new Date().toISOString(),
  );
  const [delivery] = await deps.store.outgoingHooks.deliveries(hookId, 1);
  const bypass = await ok(
    owner.api("POST", `/api/projects/${id}/protection/bypass`, { name: "ci" }),
    "bypass",
  );
  const invitation = await ok(
    owner.api("POST", `/api/teams/${slug}/invitations`, { role: "viewer" }),
    "invite",
  );
  const [first, second] = ready;
  if (!first || !second || !delivery) throw new Error("team fixture: setup incomplete");
  return {
    slug,
    people,
    extras,
    project: { id, subDomain: String(project.subDomain) },
    spare: String(spare.id),
    ready: [first, second],
    queued,
    hookId,
    deliveryId: delivery.id,
    bypassTokenId: String(obj(bypass.record).id),
    invitationId: String(invitation.id),
    blob,
  };
}

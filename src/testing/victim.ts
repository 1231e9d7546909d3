// Test support for tenancy tests: a victim account holding one of every kind of resource (READY and queued
// deployments, env vars, a verified custom domain, a webhook secret, API tokens), made through the API, and
// a snapshot of all of it to compare before and after another account tried everything.

import { buildEnv } from "../deploy/env.ts";
import type { Deps } from "../deps.ts";
import type { User } from "../model/entities.ts";
import { previewManifestId } from "../preview/previews.ts";
import { apiClient, type Client, obj, testUser } from "./deps.ts";

export interface Victim {
  user: User;
  /** The victim's own API client (as their main token). */
  api: Client;
  project: { id: string; name: string; subDomain: string; customDomain: string };
  /** READY deployments, oldest first: the last is production, the first one can be promoted. */
  ready: [string, string];
  /** A git deployment still QUEUED (no worker runs in these tests), so cancel would change it. */
  queued: string;
  /** Its variables for both targets (as production sees them)... */
  env: Record<string, string>;
  /** ...and the values previews see instead. */
  previewEnv: Record<string, string>;
  webhookSecret: string;
  /** A second API token of the victim's, which another account might try to revoke. */
  tokenId: string;
  /** A deployment protection bypass token of the victim's project, which another account might try to revoke. */
  bypassTokenId: string;
  /** An outgoing webhook of the victim's project and one of its deliveries. */
  hookId: string;
  deliveryId: string;
  /** A file of the victim's deployments, stored by its content hash. */
  blob: { hash: string; size: number; content: string };
  /** A team the victim owns (its slug) with an open invitation, which another account might try to use. */
  team: { slug: string; invitationId: string; invitationToken: string };
  /** Strings only the victim's data contains: no answer to anyone else may include one. */
  secrets: string[];
}

const sha256 = (data: string | Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

async function expectStatus(
  response: Promise<{ status: number; body: unknown }>,
  status: number,
  what: string,
): Promise<Record<string, unknown>> {
  const res = await response;
  if (res.status !== status)
    throw new Error(`victim setup: ${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body === null ? {} : obj(res.body);
}

/** A new account with one of everything, all made through the API as its owner would. */
export async function makeVictim(deps: Deps): Promise<Victim> {
  const tag = crypto.randomUUID().slice(0, 8);
  const { user, token } = await testUser(deps, `victim-${tag}@example.com`);
  const api = apiClient(deps, token);
  const customDomain = `www.victim-${tag}.example.org`;
  const name = `Victim site ${tag}`;
  const project = await expectStatus(
    api("POST", "/api/projects", {
      name,
      subDomain: `victim-${tag}`,
      gitUrl: "https://git.example.com/victim/site.git",
      customDomain,
    }),
    201,
    "create project",
  );
  const id = String(project.id);
  // Verified as after a DNS check, so the domain is really served (domains.ts needs a resolver for that).
  await deps.store.projects.markDomainVerified(id, customDomain);

  const webhook = await expectStatus(api("GET", `/api/projects/${id}/webhook`), 200, "webhook secret");
  // For both targets, then the database URL once more for previews only (a value per target).
  const env = { VICTIM_API_KEY: `env-value-${tag}`, VICTIM_DB_URL: `postgres://victim:pw-${tag}@db/app` };
  for (const [key, value] of Object.entries(env)) {
    await expectStatus(api("PUT", `/api/projects/${id}/env/${key}`, { value }), 204, `set ${key}`);
  }
  const previewEnv = { VICTIM_DB_URL: `postgres://victim:preview-${tag}@db/app` };
  await expectStatus(
    api("PUT", `/api/projects/${id}/env/VICTIM_DB_URL`, {
      value: previewEnv.VICTIM_DB_URL,
      target: ["preview"],
    }),
    204,
    "set VICTIM_DB_URL for previews",
  );
  const tokenName = `victim-ci-${tag}`;
  const created = await expectStatus(api("POST", "/api/tokens", { name: tokenName }), 201, "create token");

  const content = `<h1>victim page ${tag}</h1>`;
  const blob = { hash: sha256(content), size: Buffer.byteLength(content), content };
  await expectStatus(api("PUT", `/api/files/${blob.hash}`, content), 204, "upload file");
  const ready: string[] = [];
  for (const version of ["v1", "v2"]) {
    const deployed = await expectStatus(
      api("POST", `/api/projects/${id}/deployments`, {
        files: {
          "/index.html": { hash: blob.hash, size: blob.size },
          [`/${version}.txt`]: { hash: blob.hash, size: blob.size },
        },
        target: "production",
      }),
      201,
      `prebuilt deployment ${version}`,
    );
    const deployment = obj(deployed.deployment);
    if (deployment.status !== "READY") throw new Error(`victim setup: ${version} is ${deployment.status}`);
    ready.push(String(deployment.id));
  }
  const queued = await expectStatus(api("POST", "/api/deploy", { projectId: id }), 201, "queue a build");
  const [first, last] = ready;
  if (!first || !last) throw new Error("victim setup: no READY deployments");
  // What its production function printed (as the runtime stores it): no one else may read it.
  const runtimeLine = `victim function says ${tag}`;
  await deps.runtimeLogs.append([
    {
      deploymentId: last,
      id: `victim-${tag}`,
      function: "/api/secret",
      requestId: `req-${tag}`,
      stream: "stdout",
      text: runtimeLine,
      at: new Date().toISOString(),
    },
  ]);
  // Its production's preview image (as a worker stores one): only the owner may see it.
  const previewText = `victim preview ${tag}`;
  const png = new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...new TextEncoder().encode(previewText),
  ]);
  const previewHash = sha256(png);
  await deps.artifacts.putBlob(previewHash, png);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: previewManifestId(last),
    createdAt: new Date().toISOString(),
    files: { "/preview.png": { hash: previewHash, size: png.byteLength, type: "image/png" } },
  });
  // Deployment protection: a password and a bypass token another account must neither change nor learn.
  await api("PUT", `/api/projects/${id}/protection/password`, { password: `victim password ${tag}` });
  const bypass = obj(
    (await api("POST", `/api/projects/${id}/protection/bypass`, { name: `victim ci ${tag}` })).body,
  );
  // An outgoing webhook (its secret is shown once) and a delivery in its log.
  const hook = await expectStatus(
    api("POST", `/api/projects/${id}/hooks`, {
      url: `https://203.0.113.10/hooks/${tag}`,
      events: ["deployment.ready"],
    }),
    201,
    "outgoing hook",
  );
  const hookId = String(obj(hook.hook).id);
  await deps.store.outgoingHooks.enqueue(
    id,
    "deployment.ready",
    JSON.stringify({ tag }),
    new Date().toISOString(),
  );
  const [delivery] = await deps.store.outgoingHooks.deliveries(hookId, 1);
  if (!delivery) throw new Error("victim setup: no delivery queued");
  // A team with an open invitation (its link is the victim's secret).
  const teamSlug = `victim-team-${tag}`;
  await expectStatus(api("POST", "/api/teams", { slug: teamSlug, name: `Victim team ${tag}` }), 201, "team");
  const invitation = await expectStatus(
    api("POST", `/api/teams/${teamSlug}/invitations`, { role: "owner" }),
    201,
    "invitation",
  );
  // A git provider for commit statuses: its token is write-only.
  const providerToken = `ghp_victim_${tag}`;
  await expectStatus(
    api("PUT", `/api/projects/${id}/git-provider`, {
      kind: "github",
      token: providerToken,
      apiUrl: "https://203.0.113.20/api/v3",
      repository: "victim/site",
    }),
    200,
    "git provider",
  );
  return {
    user,
    api,
    project: { id, name, subDomain: String(project.subDomain), customDomain },
    ready: [first, last],
    queued: String(queued.id),
    env,
    previewEnv,
    webhookSecret: String(webhook.secret),
    tokenId: String(obj(created.record).id),
    bypassTokenId: String(obj(bypass.record).id),
    hookId,
    deliveryId: delivery.id,
    blob,
    team: {
      slug: teamSlug,
      invitationId: String(invitation.id),
      invitationToken: String(invitation.token),
    },
    secrets: [
      String(invitation.token),
      `Victim team ${tag}`,
      previewText,
      String(bypass.token),
      String(hook.secret),
      providerToken,
      `https://203.0.113.10/hooks/${tag}`,
      name,
      user.email,
      tokenName,
      String(webhook.secret),
      content,
      runtimeLine,
      ...Object.values(env),
      ...Object.values(previewEnv),
    ],
  };
}

/** Everything of the victim's that another account could change (read as the victim, and from the stores). */
export async function victimState(deps: Deps, victim: Victim) {
  const { api, project } = victim;
  const body = async (path: string) => obj((await api("GET", path)).body);
  const deployments = (await body(`/api/projects/${project.id}/deployments?limit=100`)).items as {
    id: string;
  }[];
  const tokens = (await body("/api/tokens")).items as Record<string, unknown>[];
  return {
    project: await body(`/api/projects/${project.id}`),
    domains: await body(`/api/projects/${project.id}/domains`),
    deployments,
    logs: await Promise.all(deployments.map((d) => body(`/api/deployments/${d.id}/logs`))),
    runtimeLogs: await Promise.all(deployments.map((d) => body(`/api/deployments/${d.id}/runtime-logs`))),
    manifests: await Promise.all(deployments.map((d) => deps.artifacts.getManifest(d.id))),
    env: await body(`/api/projects/${project.id}/env`),
    envValues: await buildEnv(deps.store, deps.sealer, project.id, "production"),
    previewEnvValues: await buildEnv(deps.store, deps.sealer, project.id, "preview"),
    webhook: await body(`/api/projects/${project.id}/webhook`),
    bypass: await body(`/api/projects/${project.id}/protection/bypass`),
    hooks: await body(`/api/projects/${project.id}/hooks`),
    hookDeliveries: await deps.store.outgoingHooks.deliveries(victim.hookId, 100),
    gitProvider: await deps.store.gitReports.provider(project.id),
    // Without lastUsedAt: reading this snapshot uses the victim's main token.
    tokens: tokens.map(({ id, name, revokedAt }) => ({ id, name, revokedAt })),
    blobMissing: await deps.artifacts.missing([victim.blob.hash]),
    team: await body(`/api/teams/${victim.team.slug}`),
    members: await body(`/api/teams/${victim.team.slug}/members`),
    invitations: await body(`/api/teams/${victim.team.slug}/invitations`),
    audit: await body(`/api/teams/${victim.team.slug}/audit?limit=100`),
    personalAudit: await body("/api/audit?limit=100"),
  };
}

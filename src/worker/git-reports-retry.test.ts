// When the dispatcher retries a commit status: a provider's 4xx refusal (but 408 and 429) is final and its message
// is in the report's log at once; 429 and 5xx keep the backoff, and a Retry-After longer than it is honoured.
// Against the local GitHub, GitLab and Gitea stand-ins, through the API (provider setting, deploy) and the
// dispatcher the worker runs.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDashboard } from "../dashboard/app.ts";
import type { Deps } from "../deps.ts";
import type { GitProviderKind } from "../store/git-reports.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { type FakeProvider, fakeGitProvider } from "../testing/fake-git-providers.ts";
import { signInAs, Visitor } from "../testing/visitor.ts";
import { dispatchReports } from "./git-reports.ts";

let deps: Deps;
let api: Client;
/** The same owner in the dashboard. */
let owner: Visitor;
beforeAll(async () => {
  // The stand-ins are on 127.0.0.1 (allowed here); the backoff starts at 50 ms.
  deps = await testDeps({ MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1", OUTGOING_HOOK_RETRY_BASE_MS: "50" });
  const { user, token } = await testUser(deps);
  api = apiClient(deps, token);
  owner = new Visitor(createDashboard(deps));
  await signInAs(deps.store, owner, user);
});
afterAll(() => deps.close());

type Shown = { status: string; attempts: number; lastError: string | null; nextAttemptAt: string | null };

/** A project on octo/site with `fake` as its provider (or `token` instead of the right one), and a queued deploy. */
async function queued(fake: FakeProvider, token = fake.token) {
  const created = await api("POST", "/api/projects", {
    name: `Site ${fake.kind}`,
    gitUrl: `https://${fake.kind}.example.com/octo/site.git`,
    subDomain: `retry-${crypto.randomUUID().slice(0, 8)}`,
  });
  const id = String(obj(created.body).id);
  const set = await api("PUT", `/api/projects/${id}/git-provider`, {
    kind: fake.kind,
    token,
    apiUrl: fake.apiUrl,
  });
  expect(set.status).toBe(200);
  const sha = crypto.randomUUID().replaceAll("-", "").padEnd(40, "0");
  expect((await api("POST", "/api/deploy", { projectId: id, commitSha: sha })).status).toBe(201);
  return { id, sha };
}

async function reportOf(projectId: string): Promise<Shown> {
  const shown = obj((await api("GET", `/api/projects/${projectId}/git-provider`)).body);
  const [report] = shown.reports as Shown[];
  if (!report) throw new Error("no report queued");
  return report;
}

const dispatch = () => dispatchReports(deps, `test-${crypto.randomUUID()}`);

/** Dispatches until the project's report has been tried `attempts` times (other tests' reports may be due too). */
async function triedUntil(projectId: string, attempts: number): Promise<Shown> {
  const end = Date.now() + 10_000;
  for (;;) {
    await dispatch();
    const report = await reportOf(projectId);
    if (report.attempts >= attempts || report.status !== "pending") return report;
    if (Date.now() > end) throw new Error(`report tried ${report.attempts} times, not ${attempts}`);
    await Bun.sleep(20);
  }
}

describe.each(["github", "gitlab", "gitea"] as const)("%s", (kind: GitProviderKind) => {
  test("a refused token (401) fails at the first attempt with the provider's message", async () => {
    const fake = fakeGitProvider(kind);
    try {
      const p = await queued(fake, `wrong-${crypto.randomUUID()}`);
      const report = await triedUntil(p.id, 1);
      expect(report).toMatchObject({ status: "failed", attempts: 1 });
      expect(report.lastError).toStartWith("not retried: POST ");
      expect(report.lastError).toContain("answered 401: bad credentials");
      const sent = fake.requests.length;
      await Bun.sleep(200);
      await dispatch();
      expect(fake.requests.length).toBe(sent);
    } finally {
      fake.stop();
    }
  });
});

test("422 and 404 are final; 408 and 5xx are retried with the backoff and then sent", async () => {
  const fake = fakeGitProvider("github");
  try {
    fake.refuse = { status: 422, message: "Validation Failed" };
    const invalid = await queued(fake);
    expect(await triedUntil(invalid.id, 1)).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: `not retried: POST /repos/octo/site/statuses/${invalid.sha} answered 422: Validation Failed`,
    });
    fake.refuse = { status: 404, message: "Not Found" };
    const missing = await queued(fake);
    expect(await triedUntil(missing.id, 1)).toMatchObject({ status: "failed", attempts: 1 });

    fake.refuse = { status: 408, message: "Request Timeout" };
    const slow = await queued(fake);
    expect(await triedUntil(slow.id, 2)).toMatchObject({ status: "pending", attempts: 2 });
    fake.refuse = { status: 502, message: "Bad Gateway" };
    const report = await triedUntil(slow.id, 3);
    expect(report).toMatchObject({ status: "pending", attempts: 3 });
    expect(report.lastError).toContain("answered 502: Bad Gateway");
    // A pending report says when it is tried again, in the API and on the project's Git page.
    expect(Date.parse(report.nextAttemptAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    const page = await owner.get(`/projects/${slow.id}/git`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`; next try <time datetime="${report.nextAttemptAt}"`);
    fake.refuse = null;
    const end = Date.now() + 10_000;
    while ((await reportOf(slow.id)).status === "pending" && Date.now() < end) {
      await dispatch();
      await Bun.sleep(50);
    }
    expect(await reportOf(slow.id)).toMatchObject({ status: "delivered", nextAttemptAt: null });
    expect(fake.statuses.map((s) => s.sha)).toEqual([slow.sha]);
  } finally {
    fake.stop();
  }
});

test("429 is retried, not before its Retry-After", async () => {
  const fake = fakeGitProvider("gitlab");
  try {
    fake.refuse = { status: 429, message: "Retry later", retryAfter: "2" };
    const p = await queued(fake);
    const before = Date.now();
    const report = await triedUntil(p.id, 1);
    expect(report).toMatchObject({ status: "pending", attempts: 1 });
    expect(report.lastError).toContain("answered 429: Retry later");
    // The backoff alone would be 50 ms; the provider asked for 2 s.
    const [stored] = await deps.store.gitReports.list(p.id, 1);
    const next = Date.parse(stored?.nextAttemptAt ?? "");
    expect(next - before).toBeGreaterThanOrEqual(1_900);
    fake.refuse = null;
    await Bun.sleep(300);
    await dispatch();
    expect(await reportOf(p.id)).toMatchObject({ status: "pending", attempts: 1 });
    await Bun.sleep(Math.max(0, next - Date.now() + 50));
    expect(await triedUntil(p.id, 2)).toMatchObject({ status: "delivered" });
    expect(fake.statuses.map((s) => [s.sha, s.state])).toEqual([[p.sha, "pending"]]);
  } finally {
    fake.stop();
  }
});

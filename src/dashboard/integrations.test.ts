// The Git page's integrations through the dashboard's handler: the git provider form (token write-only, inline
// errors, remove), outgoing webhooks (add with the secret shown once, inline errors, remove), a hook's delivery
// log with its attempts and the Redeliver button; CSRF on every form, everything escaped, another account: 404.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { MAX_ATTEMPTS } from "../worker/outbox.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  deps = await testDeps();
  app = createDashboard(deps);
});
afterAll(() => deps.close());

async function owned(v: Visitor) {
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: "Integrated",
    gitUrl: "https://github.com/octo/site.git",
  });
  return { user, project };
}

describe("git provider card", () => {
  test("save (token never shown), replace, inline errors with what was typed, remove", async () => {
    const v = new Visitor(app);
    const { project } = await owned(v);
    const page = `/projects/${project.id}/git`;
    expect((await v.get(page)).text).toContain("No git provider");
    const token = "ghp_dashboard_secret_token_QRST";
    const saved = await v.post(`/projects/${project.id}/git-provider`, {
      kind: "github",
      token,
      apiUrl: "",
      repository: "",
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`${page}?saved=provider#git-provider`);
    const shown = await v.get(`${page}?saved=provider`);
    expect(shown.text).toContain("https://api.github.com");
    expect(shown.text).toContain("…QRST");
    expect(shown.text).not.toContain(token);

    // Gitea needs its API URL; the typed repository comes back (escaped), the token does not.
    const bad = await v.post(`/projects/${project.id}/git-provider`, {
      kind: "gitea",
      token: "gitea_token_12345",
      apiUrl: "",
      repository: "<b>octo</b>/site",
    });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "apiUrl")).toStartWith("API URL is required for Gitea");
    expect(bad.text).not.toContain("gitea_token_12345");
    expect(bad.text).not.toContain("<b>octo</b>");
    const badRepo = await v.post(`/projects/${project.id}/git-provider`, {
      kind: "gitea",
      token: "gitea_token_12345",
      apiUrl: "https://gitea.example.com/api/v1",
      repository: "<b>octo</b>/site",
    });
    expect(fieldError(badRepo.text, "repository")).toStartWith("Repository must be owner/name");
    expect(badRepo.text).toContain("&lt;b>octo&lt;/b>/site");
    expect(
      fieldError(
        (await v.post(`/projects/${project.id}/git-provider`, { kind: "svn", token: "x" })).text,
        "kind",
      ),
    ).toBe("Choose GitHub, GitLab or Gitea");
    expect((await deps.store.gitReports.provider(project.id))?.kind).toBe("github");

    // Without the CSRF token nothing changes.
    const forged = await v.post(`/projects/${project.id}/git-provider/delete`, { _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect(await deps.store.gitReports.provider(project.id)).not.toBeNull();
    expect((await v.post(`/projects/${project.id}/git-provider/delete`)).status).toBe(303);
    expect(await deps.store.gitReports.provider(project.id)).toBeNull();
  });
});

describe("outgoing webhooks card", () => {
  test("add (secret once), inline errors, delivery log with attempts, redeliver, remove", async () => {
    const v = new Visitor(app);
    const { project } = await owned(v);
    const base = `/projects/${project.id}`;
    const added = await v.post(`${base}/hooks`, {
      url: "https://203.0.113.7/events?a=<x>",
      format: "slack",
      "deployment.ready": "on",
      "deployment.failed": "on",
    });
    expect(added.status).toBe(200);
    const secret = /id="new-hook-secret"[^>]*value="(whsec_[^"]+)"/.exec(added.text)?.[1] ?? "";
    expect(secret).toStartWith("whsec_");
    expect(added.text).toContain("https://203.0.113.7/events?a=&lt;x>");
    const [hook] = await deps.store.outgoingHooks.list(project.id);
    expect(hook).toMatchObject({ format: "slack", events: ["deployment.ready", "deployment.failed"] });
    if (!hook) throw new Error("unreachable");
    // Shown once: the page afterwards lists the hook without its secret.
    const later = await v.get(`${base}/git`);
    expect(later.text).toContain(`href="${base}/hooks/${hook.id}"`);
    expect(later.text).not.toContain(secret);

    const noEvents = await v.post(`${base}/hooks`, { url: "https://203.0.113.8/x", format: "standard" });
    expect([noEvents.status, fieldError(noEvents.text, "events")]).toEqual([
      422,
      "Events must name at least one event",
    ]);
    const privateUrl = await v.post(`${base}/hooks`, {
      url: "http://127.0.0.1:9000/x",
      format: "standard",
      "deployment.ready": "on",
    });
    expect(fieldError(privateUrl.text, "url")).toContain("own network");
    expect(privateUrl.text).toContain('value="http://127.0.0.1:9000/x"');

    // A delivery that failed every attempt, as the dispatcher leaves it: the log shows each, and Redeliver.
    await deps.store.outgoingHooks.enqueue(
      project.id,
      "deployment.ready",
      '{"type":"deployment.ready"}',
      new Date().toISOString(),
    );
    const [delivery] = await deps.store.outgoingHooks.deliveries(hook.id, 1);
    if (!delivery) throw new Error("unreachable");
    for (let i = 1; i <= MAX_ATTEMPTS; i++) {
      const now = new Date().toISOString();
      const [claimed] = await deps.store.outgoingHooks.claimDue(
        "test",
        now,
        new Date(Date.now() + 60_000).toISOString(),
        1,
      );
      if (!claimed) throw new Error("not due");
      await deps.store.outgoingHooks.recordAttempt(
        claimed.id,
        "test",
        {
          at: now,
          statusCode: i % 2 ? 500 : null,
          error: i % 2 ? "receiver answered 500" : "<connect refused>",
          durationMs: 12,
        },
        i === MAX_ATTEMPTS ? { kind: "failed" } : { kind: "retry", at: now },
      );
    }
    const log = await v.get(`${base}/hooks/${hook.id}`);
    expect(log.status).toBe(200);
    expect(log.text).toContain(`data-delivery="${delivery.id}" data-status="failed"`);
    expect(log.text.match(/class="attempt"/g)).toHaveLength(MAX_ATTEMPTS);
    expect(log.text).toContain("&lt;connect refused>");
    const again = await v.post(`${base}/hooks/${hook.id}/deliveries/${delivery.id}/redeliver`);
    expect(again.status).toBe(303);
    expect((await deps.store.outgoingHooks.deliveries(hook.id, 1))[0]).toMatchObject({
      status: "pending",
      attempts: 0,
    });
    const queued = await v.get(again.headers.get("location") ?? "");
    expect(queued.text).toContain('id="redelivered"');

    expect((await v.post(`${base}/hooks/${hook.id}/delete`, { _csrf: "forged" })).status).toBe(403);
    expect((await v.post(`${base}/hooks/${hook.id}/delete`)).status).toBe(303);
    expect(await deps.store.outgoingHooks.list(project.id)).toEqual([]);
    expect((await v.get(`${base}/hooks/${hook.id}`)).status).toBe(404);
  });

  test("another account: 404 on every page and form, nothing changes", async () => {
    const owner = new Visitor(app);
    const { project } = await owned(owner);
    await owner.post(`/projects/${project.id}/hooks`, {
      url: "https://203.0.113.9/h",
      format: "standard",
      "deployment.ready": "on",
    });
    const [hook] = await deps.store.outgoingHooks.list(project.id);
    if (!hook) throw new Error("unreachable");
    const bob = new Visitor(app);
    await signIn(deps.store, bob);
    const base = `/projects/${project.id}`;
    expect((await bob.get(`${base}/hooks/${hook.id}`)).status).toBe(404);
    expect(
      (await bob.post(`${base}/hooks`, { url: "https://203.0.113.9/bob", "deployment.ready": "on" })).status,
    ).toBe(404);
    expect((await bob.post(`${base}/hooks/${hook.id}/delete`)).status).toBe(404);
    expect(
      (await bob.post(`${base}/git-provider`, { kind: "github", token: "ghp_bob_1234567" })).status,
    ).toBe(404);
    expect((await bob.post(`${base}/git-provider/delete`)).status).toBe(404);
    expect(await deps.store.outgoingHooks.list(project.id)).toHaveLength(1);
    expect(await deps.store.gitReports.provider(project.id)).toBeNull();
  });
});

// Outgoing webhooks through the real pieces: deploys through the API (prebuilt file sets), promote and rollback,
// the store's outbox and the worker's dispatcher, to local receivers that verify the Standard Webhooks signature
// as a user's receiver would (docs/api.md, Outgoing webhooks); a receiver that is down gets the retries.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { hookUrlProblem } from "../deploy/hooks.ts";
import { changeStatus } from "../deploy/state.ts";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, tempDir, testDeps, testUser } from "../testing/deps.ts";
import { MAX_ATTEMPTS } from "./outbox.ts";
import { startOutgoingDispatcher } from "./outgoing.ts";

let deps: Deps;
let api: Client;
let dispatcher: { stop(): Promise<void> };

beforeAll(async () => {
  // Receivers on 127.0.0.1 (the operator allows it here); retries after 20 ms, 60, 180, 540, 1620.
  deps = await testDeps({ MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1", OUTGOING_HOOK_RETRY_BASE_MS: "20" });
  api = apiClient(deps, (await testUser(deps)).token);
  dispatcher = startOutgoingDispatcher(deps, 20);
});
afterAll(async () => {
  await dispatcher.stop();
  await deps.close();
});

/** The receiver's side of Standard Webhooks, written from the spec (not from our sender's code). */
function verify(secret: string, headers: Headers, body: string, toleranceSeconds = 300): string | null {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !timestamp || !signatures) return "missing headers";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return "timestamp too old or new";
  const key = Buffer.from(secret.split("_")[1] ?? "", "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",");
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return "no valid signature";
}

interface Received {
  id: string;
  body: string;
  headers: Headers;
}

/** A receiver that verifies every request with `secret()` (401 when it does not verify), on `port` (0: any). */
function receiver(secret: () => string, port = 0) {
  const got: Received[] = [];
  const rejected: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const body = await req.text();
      const problem = verify(secret(), req.headers, body);
      if (problem) {
        rejected.push(problem);
        return new Response(problem, { status: 401 });
      }
      got.push({ id: req.headers.get("webhook-id") ?? "", body, headers: req.headers });
      return new Response(null, { status: 204 });
    },
  });
  return { server, got, rejected, url: `http://127.0.0.1:${server.port}/hook` };
}

const sha256 = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

async function deploy(projectId: string, content: string) {
  const hash = sha256(content);
  expect((await api("PUT", `/api/files/${hash}`, content)).status).toBe(204);
  const res = await api("POST", `/api/projects/${projectId}/deployments`, {
    files: { "/index.html": { hash, size: Buffer.byteLength(content) } },
    target: "production",
  });
  expect(res.status).toBe(201);
  return String(obj(obj(res.body).deployment).id);
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

async function newProject(name: string) {
  return String(obj((await api("POST", "/api/projects", { name })).body).id);
}

async function addHook(projectId: string, url: string, events: string[], format?: string) {
  const res = await api("POST", `/api/projects/${projectId}/hooks`, {
    url,
    events,
    ...(format && { format }),
  });
  expect(res.status).toBe(201);
  const body = obj(res.body);
  return { id: String(obj(body.hook).id), secret: String(body.secret) };
}

interface DeliveryView {
  id: string;
  event: string;
  status: string;
  attempts: number;
  log: { statusCode: number | null; error: string | null; durationMs: number }[];
}

async function deliveries(projectId: string, hookId: string): Promise<DeliveryView[]> {
  const res = await api("GET", `/api/projects/${projectId}/hooks/${hookId}/deliveries`);
  expect(res.status).toBe(200);
  return obj(res.body).items as DeliveryView[];
}

describe("outgoing webhooks", () => {
  test("deploy, promote and rollback reach a receiver signed; it verifies each, and refuses a replay", async () => {
    let secret = "";
    const rx = receiver(() => secret);
    try {
      const projectId = await newProject("Hooked");
      const hook = await addHook(projectId, rx.url, [
        "deployment.created",
        "deployment.ready",
        "deployment.promoted",
        "deployment.rolled_back",
      ]);
      secret = hook.secret;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      // The secret is shown once: the list does not hold it.
      expect(JSON.stringify((await api("GET", `/api/projects/${projectId}/hooks`)).body)).not.toContain(
        secret,
      );

      const first = await deploy(projectId, "<h1>one</h1>");
      const second = await deploy(projectId, "<h1>two</h1>");
      expect((await api("POST", `/api/deployments/${first}/promote`)).status).toBe(200);
      expect((await api("POST", `/api/projects/${projectId}/rollback`)).status).toBe(200);

      const seen = () =>
        rx.got.map((r) => {
          const e = JSON.parse(r.body) as { type: string; data: { deployment: { id: string } } };
          return `${e.type} ${e.data.deployment.id}`;
        });
      await until("six events", async () => rx.got.length >= 6);
      await Bun.sleep(100);
      expect(seen().sort()).toEqual(
        [
          `deployment.created ${first}`,
          `deployment.ready ${first}`,
          `deployment.created ${second}`,
          `deployment.ready ${second}`,
          `deployment.promoted ${first}`,
          // Rolling back after the promote puts the second deployment back in production.
          `deployment.rolled_back ${second}`,
        ].sort(),
      );
      expect(rx.rejected).toEqual([]);
      const ready = rx.got.find((r) => r.body.includes("deployment.ready"));
      if (!ready) throw new Error("no ready event");
      const event = JSON.parse(ready.body);
      expect(event.data.project).toEqual({ id: projectId, name: "Hooked", subDomain: expect.any(String) });
      expect(event.data.deployment.status).toBe("READY");
      expect(event.data.deployment.target).toBe("production");
      // webhook-id is the delivery's id in the log, where each delivery shows one 204 attempt.
      const log = await deliveries(projectId, hook.id);
      expect(log.map((d) => d.id).sort()).toEqual(rx.got.map((r) => r.id).sort());
      expect(
        log.every((d) => d.status === "delivered" && d.log.length === 1 && d.log[0]?.statusCode === 204),
      ).toBe(true);

      // A captured delivery sent again later, or altered, does not verify.
      const stale = new Headers(ready.headers);
      stale.set("webhook-timestamp", String(Math.floor(Date.now() / 1000) - 3600));
      expect(verify(secret, stale, ready.body)).toBe("timestamp too old or new");
      expect(verify(secret, ready.headers, ready.body.replace("READY", "FAIL"))).toBe("no valid signature");
      expect(verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ready.headers, ready.body)).toBe(
        "no valid signature",
      );
      const replay = await fetch(rx.url, { method: "POST", headers: stale, body: ready.body });
      expect(replay.status).toBe(401);
    } finally {
      rx.server.stop(true);
    }
  });

  test("a receiver that is down gets the retries; the log shows each failed attempt, then the success", async () => {
    // A port that nothing listens on (yet).
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = probe.port;
    probe.stop(true);
    let secret = "";
    const projectId = await newProject("Down");
    const hook = await addHook(projectId, `http://127.0.0.1:${port}/hook`, ["deployment.ready"]);
    secret = hook.secret;
    await deploy(projectId, "<h1>down</h1>");
    // Two refused attempts, then the receiver comes up.
    await until(
      "two failed attempts",
      async () => ((await deliveries(projectId, hook.id))[0]?.log.length ?? 0) >= 2,
    );
    const rx = receiver(() => secret, port);
    try {
      const [done] = await until("delivered", async () => {
        const list = await deliveries(projectId, hook.id);
        return list[0]?.status === "delivered" ? list : null;
      });
      if (!done) throw new Error("no delivery");
      const failed = done.log.slice(0, -1);
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed.every((a) => a.statusCode === null && (a.error ?? "").length > 0)).toBe(true);
      expect(done.log.at(-1)?.statusCode).toBe(204);
      expect(done.attempts).toBe(done.log.length);
      expect(rx.got.map((r) => r.id)).toEqual([done.id]);
    } finally {
      rx.server.stop(true);
    }
  });

  test("a receiver that never answers 2xx is given up after 6 attempts; redeliver sends it again", async () => {
    let answer = 500;
    const hits: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        hits.push(req.headers.get("webhook-id") ?? "");
        return new Response("no", { status: answer });
      },
    });
    try {
      const projectId = await newProject("Broken");
      const hook = await addHook(projectId, `http://127.0.0.1:${server.port}/`, ["deployment.created"]);
      await deploy(projectId, "<h1>broken</h1>");
      const [failed] = await until("given up", async () => {
        const list = await deliveries(projectId, hook.id);
        return list[0]?.status === "failed" ? list : null;
      });
      if (!failed) throw new Error("no delivery");
      expect(failed.log.map((a) => a.statusCode)).toEqual(Array(MAX_ATTEMPTS).fill(500));
      expect(failed.log.every((a) => a.error === "receiver answered 500")).toBe(true);
      expect(hits).toHaveLength(MAX_ATTEMPTS);

      answer = 200;
      const path = `/api/projects/${projectId}/hooks/${hook.id}/deliveries/${failed.id}/redeliver`;
      expect((await api("POST", path)).status).toBe(202);
      const [again] = await until("redelivered", async () => {
        const list = await deliveries(projectId, hook.id);
        return list[0]?.status === "delivered" ? list : null;
      });
      expect(again?.log.map((a) => a.statusCode)).toEqual([...Array(MAX_ATTEMPTS).fill(500), 200]);
      expect(hits.at(-1)).toBe(failed.id);
      // Unknown delivery or hook: 404.
      const missing = await api(
        "POST",
        `/api/projects/${projectId}/hooks/${hook.id}/deliveries/nope/redeliver`,
      );
      expect(missing.status).toBe(404);
    } finally {
      server.stop(true);
    }
  });

  test("Slack and Discord hooks get their incoming-webhook JSON (text / content), signed the same way", async () => {
    const bodies: Record<string, unknown>[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        bodies.push({ path: new URL(req.url).pathname, json: await req.json() });
        return new Response("ok");
      },
    });
    try {
      const projectId = await newProject("Chatty");
      await addHook(projectId, `http://127.0.0.1:${server.port}/slack`, ["deployment.ready"], "slack");
      await addHook(projectId, `http://127.0.0.1:${server.port}/discord`, ["deployment.ready"], "discord");
      const id = await deploy(projectId, "<h1>chat</h1>");
      await until("both", async () => bodies.length >= 2);
      const byPath = Object.fromEntries(bodies.map((b) => [b.path, b.json]));
      // Slack: {text}; Discord: {content} (at most 2000 characters); nothing else.
      const slack = obj(byPath["/slack"]);
      const discord = obj(byPath["/discord"]);
      expect(Object.keys(slack)).toEqual(["text"]);
      expect(Object.keys(discord)).toEqual(["content"]);
      for (const text of [slack.text, discord.content]) {
        expect(typeof text).toBe("string");
        expect(String(text)).toContain("Chatty");
        expect(String(text)).toContain(id);
        expect(String(text)).toContain("is ready");
      }
      expect(String(discord.content).length).toBeLessThanOrEqual(2000);
    } finally {
      server.stop(true);
    }
  });

  test("bad hooks are refused with a 4xx naming the field; the platform's own network unless allowed", async () => {
    const projectId = await newProject("Picky");
    const bad = async (body: unknown) => {
      const res = await api("POST", `/api/projects/${projectId}/hooks`, body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      return obj(obj(res.body).error);
    };
    expect((await bad({ url: "ftp://example.com/x", events: ["deployment.ready"] })).field).toBe("url");
    expect((await bad({ url: "https://user:pw@203.0.113.5/", events: ["deployment.ready"] })).field).toBe(
      "url",
    );
    await bad({ url: "https://203.0.113.5/", events: [] });
    await bad({ url: "https://203.0.113.5/", events: ["deployment.exploded"] });
    await bad({ url: "https://203.0.113.5/", events: ["deployment.ready"], format: "teams" });
    // The SSRF rules of git URLs, after DNS (localhost resolves to loopback).
    for (const url of [
      "http://127.0.0.1:9000/",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/",
      "http://10.0.0.8/",
      "http://localhost:9000/",
    ])
      expect(await hookUrlProblem(url, false)).toContain("own network");
    expect(await hookUrlProblem("https://203.0.113.5/hook", false)).toBeNull();
    const strict = await testDeps();
    try {
      const client = apiClient(strict, (await testUser(strict)).token);
      const p = String(obj((await client("POST", "/api/projects", { name: "Strict" })).body).id);
      const res = await client("POST", `/api/projects/${p}/hooks`, {
        url: "http://127.0.0.1:9000/api",
        events: ["deployment.ready"],
      });
      expect(res.status).toBe(422);
      const error = obj(obj(res.body).error);
      expect(error.field).toBe("url");
      expect(String(error.message)).toContain("loopback");
    } finally {
      await strict.close();
    }
  });

  test("queued deliveries survive a restart: a process stops before sending, the next one sends them", async () => {
    let secret = "";
    const rx = receiver(() => secret);
    const data = tempDir();
    const env = {
      MINIVERCEL_DATA: data,
      MINIVERCEL_ALLOW_PRIVATE_HOOKS: "1",
      OUTGOING_HOOK_RETRY_BASE_MS: "20",
    };
    try {
      // First process: no worker runs, so the events wait in the outbox.
      const before = await testDeps(env);
      const user = await testUser(before);
      const client = apiClient(before, user.token);
      const projectId = String(obj((await client("POST", "/api/projects", { name: "Restart" })).body).id);
      const created = obj(
        (
          await client("POST", `/api/projects/${projectId}/hooks`, {
            url: rx.url,
            events: ["deployment.ready"],
          })
        ).body,
      );
      secret = String(created.secret);
      const content = "<h1>restart</h1>";
      const hash = sha256(content);
      expect((await client("PUT", `/api/files/${hash}`, content)).status).toBe(204);
      const res = await client("POST", `/api/projects/${projectId}/deployments`, {
        files: { "/index.html": { hash, size: Buffer.byteLength(content) } },
        target: "production",
      });
      expect(res.status).toBe(201);
      await before.close();
      expect(rx.got).toEqual([]);
      // Second process on the same data: its dispatcher sends what was queued.
      const after = await testDeps(env);
      const worker = startOutgoingDispatcher(after, 20);
      try {
        await until("the queued event", async () => rx.got.length >= 1);
        expect(JSON.parse(rx.got[0]?.body ?? "{}").type).toBe("deployment.ready");
      } finally {
        await worker.stop();
        await after.close();
      }
    } finally {
      rx.server.stop(true);
    }
  });

  test("a build that fails is announced with its reason, to hooks that asked for failures only", async () => {
    let secret = "";
    const rx = receiver(() => secret);
    try {
      const res = await api("POST", "/api/projects", {
        name: "Failing",
        gitUrl: "https://git.example.com/a/b.git",
      });
      const projectId = String(obj(res.body).id);
      secret = (await addHook(projectId, rx.url, ["deployment.failed"])).secret;
      const queued = obj((await api("POST", "/api/deploy", { projectId })).body);
      const id = String(queued.id);
      // What a worker does with a build that breaks: the one owner of status changes moves it.
      await changeStatus(deps, id, "IN_PROGRESS", null);
      await changeStatus(deps, id, "FAIL", "npm run build exited with 1");
      await until("the failure", async () => rx.got.length >= 1);
      await Bun.sleep(100);
      // Created was not asked for: only the failure came.
      expect(rx.got).toHaveLength(1);
      const event = JSON.parse(rx.got[0]?.body ?? "{}");
      expect(event.type).toBe("deployment.failed");
      expect(event.data.deployment).toMatchObject({
        id,
        status: "FAIL",
        reason: "npm run build exited with 1",
      });
    } finally {
      rx.server.stop(true);
    }
  });
});

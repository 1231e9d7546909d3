// The preview relay, the sandboxed browser's only way out: answers GET and HEAD for the captured host only, from its
// upstream, with the platform's headers added on the way in and never shown back; anything else is refused.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect as connectUnix } from "node:net";
import { join } from "node:path";
import { tempDir } from "../testing/deps.ts";
import { startRelay } from "./relay.ts";

let upstream: ReturnType<typeof Bun.serve>;
let relay: { stop(): Promise<void> };
const seen: Request[] = [];
const socket = join(tempDir("minivercel-relay-"), "relay.sock");

beforeAll(() => {
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      seen.push(request);
      const url = new URL(request.url);
      if (url.pathname === "/moved") return Response.redirect("https://site.localhost/home", 301);
      return new Response(`host=${request.headers.get("host")}`, { headers: { "x-from": "upstream" } });
    },
  });
  relay = startRelay(socket, "site.localhost", {
    origin: `http://127.0.0.1:${upstream.port}`,
    host: "site.localhost",
    headers: { "x-platform": "held by the platform" },
  });
});
afterAll(async () => {
  await relay.stop();
  upstream.stop(true);
});

const through = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, unix: socket, redirect: "manual" });

test("the captured host's pages come from its upstream, with the Host it routes by", async () => {
  const answer = await through("http://site.localhost/page?x=1", { headers: { cookie: "planted=1" } });
  expect(answer.status).toBe(200);
  expect(await answer.text()).toBe("host=site.localhost");
  expect(answer.headers.get("x-from")).toBe("upstream");
  const request = seen[seen.length - 1];
  expect(request?.url).toEndWith("/page?x=1");
  // The platform's header goes upstream only; the browser's cookies never do.
  expect(request?.headers.get("x-platform")).toBe("held by the platform");
  expect(request?.headers.get("cookie")).toBeNull();
  expect(answer.headers.get("x-platform")).toBeNull();
  // A redirect to the same host over https comes back through the relay.
  const moved = await through("http://site.localhost/moved");
  expect(moved.headers.get("location")).toBe("http://site.localhost/home");
});

test("another host, another method or CONNECT is refused, and nothing reaches the upstream", async () => {
  const before = seen.length;
  expect((await through("http://127.0.0.1:9000/")).status).toBe(403);
  expect((await through("http://other.localhost/")).status).toBe(403);
  expect((await through("http://site.localhost/form", { method: "POST", body: "x" })).status).toBe(405);
  const connect = await new Promise<string>((resolve) => {
    const raw = connectUnix(socket);
    let text = "";
    raw.on("data", (chunk) => {
      text += chunk.toString();
      raw.destroy();
    });
    raw.on("close", () => resolve(text));
    raw.write("CONNECT site.localhost:443 HTTP/1.1\r\nHost: site.localhost:443\r\n\r\n");
  });
  expect(connect).not.toMatch(/^HTTP\/1\.1 2/);
  expect(seen.length).toBe(before);
});

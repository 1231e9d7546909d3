// Outgoing requests to users' addresses: the host's addresses checked, then the connection pinned to the address
// that passed (no second DNS answer can redirect it), with the name kept for the Host header and for HTTPS (SNI and
// the certificate's name check). The TLS server is Pebble's test certificate (localhost, pebble, 127.0.0.1).

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testService } from "../testing/services.ts";
import { fetchAt, fetchOutbound, outboundAddress } from "./outbound.ts";

const resolver = (answers: Record<string, string[]>) => async (host: string) => answers[host] ?? [];

test("outboundAddress: a public address is used; any private one, none, or a private literal is refused", async () => {
  const resolve = resolver({
    "hooks.example.com": ["203.0.113.5", "2001:db8::5"],
    "rebind.example.com": ["203.0.113.5", "127.0.0.1"],
    "inside.example.com": ["10.1.2.3"],
    "meta.example.com": ["169.254.169.254"],
  });
  const at = (url: string) => outboundAddress(new URL(url), resolve);
  expect(await at("https://hooks.example.com/x")).toEqual({ address: "203.0.113.5" });
  expect(await at("https://rebind.example.com/x")).toEqual({
    problem: "host rebind.example.com resolves to 127.0.0.1, is a loopback address",
  });
  expect(await at("http://inside.example.com/")).toEqual({
    problem: "host inside.example.com resolves to 10.1.2.3, is a private address",
  });
  expect("problem" in (await at("http://meta.example.com/latest"))).toBe(true);
  expect(await at("https://nowhere.example.com/")).toEqual({
    problem: "host nowhere.example.com does not resolve",
  });
  expect(await at("http://127.0.0.1:8080/")).toEqual({ problem: "host 127.0.0.1 is a loopback address" });
  expect("problem" in (await at("http://[::1]/"))).toBe(true);
});

test("fetchOutbound refuses the platform's own network before connecting", async () => {
  let reached = 0;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(String(++reached)) });
  try {
    const url = `http://127.0.0.1:${server.port}/hook`;
    await expect(fetchOutbound(url, { method: "POST" }, false)).rejects.toThrow("is a loopback address");
    expect(reached).toBe(0);
    // The operator's MINIVERCEL_ALLOW_PRIVATE_HOOKS: no check, no pin.
    expect(await (await fetchOutbound(url, { method: "POST" }, true)).text()).toBe("1");
  } finally {
    server.stop(true);
  }
});

test("fetchAt: connects to the address, sends the name as Host, and checks the certificate for the name", async () => {
  const certs = join(testService("pebble"), "certs");
  const ca = readFileSync(join(certs, "minica.pem"), "utf8");
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: {
      cert: readFileSync(join(certs, "localhost-cert.pem"), "utf8"),
      key: readFileSync(join(certs, "localhost-key.pem"), "utf8"),
    },
    fetch: (request) =>
      new Response(`host ${request.headers.get("host")} path ${new URL(request.url).pathname}`),
  });
  try {
    // "pebble" resolves nowhere: only the pin can have reached the server; the certificate names it.
    const named = new URL(`https://pebble:${server.port}/hooks/1?x=2`);
    const answer = await fetchAt(named, "127.0.0.1", { tls: { ca } });
    expect(await answer.text()).toBe(`host pebble:${server.port} path /hooks/1`);
    // A name the certificate does not carry is refused, though the address (127.0.0.1) is in it.
    const other = new URL(`https://other.example.com:${server.port}/`);
    await expect(fetchAt(other, "127.0.0.1", { tls: { ca } })).rejects.toThrow();
    // Plain HTTP to the address, the name in Host.
    const plain = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (r) => new Response(r.headers.get("host")),
    });
    try {
      const res = await fetchAt(new URL(`http://hooks.example.com:${plain.port}/`), "127.0.0.1", {});
      expect(await res.text()).toBe(`hooks.example.com:${plain.port}`);
    } finally {
      plain.stop(true);
    }
  } finally {
    server.stop(true);
  }
});

// Project settings, custom domains, through the dashboard's handler: the list with each domain's state, DNS
// record and redirect; adding (with the www pair), redirecting, verifying and removing; errors inline; CSRF.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProject } from "../deploy/projects.ts";
import type { Deps } from "../deps.ts";
import { testDeps } from "../testing/deps.ts";
import { fieldError, signIn, Visitor } from "../testing/visitor.ts";
import { createDashboard } from "./app.ts";

let deps: Deps;
let dns: { close(): void };
let app: ReturnType<typeof createDashboard>;
beforeAll(async () => {
  // A resolver that knows no name (NXDOMAIN): verifying here fails with what to publish.
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(self, query, port, address) {
        const reply = Buffer.from(query);
        if (reply.length < 12) return;
        reply[2] = 0x80 | ((reply[2] ?? 0) & 0x79);
        reply[3] = 0x83;
        reply.fill(0, 6, 12);
        self.send(reply, port, address);
      },
    },
  });
  dns = socket;
  deps = await testDeps({ DNS_RESOLVERS: `127.0.0.1:${socket.port}` });
  app = createDashboard(deps);
});
afterAll(async () => {
  await deps.close();
  dns.close();
});

async function setup() {
  const v = new Visitor(app);
  const user = await signIn(deps.store, v);
  const project = await createProject(deps.store, deps.config, user.id, {
    name: `Site ${crypto.randomUUID().slice(0, 6)}`,
  });
  return { v, user, project, path: `/projects/${project.id}` };
}

const apex = () => `shop-${crypto.randomUUID().slice(0, 8)}.example.com`;
/** The list item of one domain on the settings page. */
const item = (html: string, domain: string) =>
  new RegExp(`<li[^>]*data-domain="${domain.replaceAll(".", "\\.")}"[\\s\\S]*?</li>`).exec(html)?.[0] ?? "";

describe("custom domains in the settings", () => {
  test("add with the www pair: both listed with their DNS record, the apex redirecting to www", async () => {
    const { v, project, path } = await setup();
    const empty = await v.get(`${path}/settings`);
    expect(empty.text).toContain('id="no-domains"');
    const name = apex();
    const added = await v.post(`${path}/domains`, { domain: name, www: "on" });
    expect([added.status, added.headers.get("location")]).toEqual([303, `${path}/settings#custom-domains`]);

    const page = (await v.get(`${path}/settings`)).text;
    const www = item(page, `www.${name}`);
    const bare = item(page, name);
    expect(www).toContain('data-verified="false"');
    expect(www).toContain(`_minivercel.www.${name}`);
    expect(www).toContain(`minivercel-verify=${project.domainToken}`);
    expect(www).toContain("Serves production");
    expect(bare).toContain(`Redirects to <span class="mono">www.${name}</span> (308)`);
    expect(bare).toContain(`_minivercel.${name}`);
    // The primary domain (the first) fills the project's Custom domain field.
    expect(page).toContain(`value="www.${name}"`);
    // Only a serving domain of the project is offered as a redirect target; the target itself has no redirect form.
    expect(bare).toContain(`<option value="www.${name}" selected`);
    expect(www).not.toContain('name="redirectTo"');
  });

  test("redirect, verify and remove per domain; errors show inline beside that domain", async () => {
    const { v, path } = await setup();
    const name = apex();
    await v.post(`${path}/domains`, { domain: name, www: "on" });
    const status = await v.post(`${path}/domains/${name}/redirect`, {
      redirectTo: `www.${name}`,
      redirectStatus: "301",
    });
    expect(status.status).toBe(303);
    expect(item((await v.get(`${path}/settings`)).text, name)).toContain("(301)");

    const loop = await v.post(`${path}/domains/www.${name}/redirect`, {
      redirectTo: name,
      redirectStatus: "308",
    });
    expect(loop.status).toBe(422);
    expect(item(loop.text, `www.${name}`)).toContain('class="form-error"');
    expect(item(loop.text, `www.${name}`)).toContain(`redirects to www.${name}`);
    expect(item(loop.text, name)).not.toContain('class="form-error"');

    const badStatus = await v.post(`${path}/domains/${name}/redirect`, {
      redirectTo: `www.${name}`,
      redirectStatus: "303",
    });
    expect(badStatus.status).toBe(422);
    expect(item(badStatus.text, name)).toContain("The redirect status must be 308, 301, 307 or 302");

    const verify = await v.post(`${path}/domains/${name}/verify`);
    expect(verify.status).toBe(422);
    expect(item(verify.text, name)).toContain(`_minivercel.${name} has no TXT record`);

    const served = await v.post(`${path}/domains/${name}/redirect`, {
      redirectTo: "",
      redirectStatus: "308",
    });
    expect(served.status).toBe(303);
    expect(item((await v.get(`${path}/settings`)).text, name)).toContain("Serves production");

    expect((await v.post(`${path}/domains/www.${name}/remove`)).status).toBe(303);
    const page = (await v.get(`${path}/settings`)).text;
    expect(item(page, `www.${name}`)).toBe("");
    expect(item(page, name)).not.toBe("");
    expect((await v.post(`${path}/domains/www.${name}/remove`)).status).toBe(404);
  });

  test("a bad or taken name is shown beside the add form, with what was typed; nothing is added", async () => {
    const { v, project, path } = await setup();
    const bad = await v.post(`${path}/domains`, { domain: "not a domain" });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "domain")).toStartWith("Domain ");
    expect(bad.text).toContain('value="not a domain"');
    const name = apex();
    await v.post(`${path}/domains`, { domain: name });
    const twice = await v.post(`${path}/domains`, { domain: name });
    expect(twice.status).toBe(409);
    expect(fieldError(twice.text, "domain")?.toLowerCase()).toBe(
      `${name} is already a domain of this project`,
    );
    expect((await deps.store.domains.list(project.id)).map((d) => d.name)).toEqual([name]);
    // The same name with the www box makes the pair (no 409); once more, it says they are a pair.
    expect((await v.post(`${path}/domains`, { domain: name, www: "on" })).status).toBe(303);
    const pair = await v.post(`${path}/domains`, { domain: `www.${name}`, www: "on" });
    expect(pair.status).toBe(409);
    expect(fieldError(pair.text, "domain")).toContain("they are a pair");
    const saved = await deps.store.domains.list(project.id);
    expect(saved.map((d) => [d.name, d.redirectTo])).toEqual([
      [name, `www.${name}`],
      [`www.${name}`, null],
    ]);
  });

  test("without the form's CSRF token nothing changes", async () => {
    const { v, project, path } = await setup();
    const name = apex();
    await v.post(`${path}/domains`, { domain: name });
    for (const [action, form] of [
      [`${path}/domains`, { domain: apex() }],
      [`${path}/domains/${name}/redirect`, { redirectTo: "" }],
      [`${path}/domains/${name}/remove`, {}],
      [`${path}/domains/${name}/verify`, {}],
    ] as const) {
      const forged = await v.send("POST", action, { form });
      expect([action, forged.status]).toEqual([action, 403]);
    }
    expect((await deps.store.domains.list(project.id)).map((d) => d.name)).toEqual([name]);
    // The same name with the www box makes the pair (no 409); once more, it says they are a pair.
    expect((await v.post(`${path}/domains`, { domain: name, www: "on" })).status).toBe(303);
    const pair = await v.post(`${path}/domains`, { domain: `www.${name}`, www: "on" });
    expect(pair.status).toBe(409);
    expect(fieldError(pair.text, "domain")).toContain("they are a pair");
    const saved = await deps.store.domains.list(project.id);
    expect(saved.map((d) => [d.name, d.redirectTo])).toEqual([
      [name, `www.${name}`],
      [`www.${name}`, null],
    ]);
  });

  test("names are escaped in the page", async () => {
    const { v, project, path } = await setup();
    // Only valid host names are stored; a crafted one is refused and echoed escaped.
    const crafted = await v.post(`${path}/domains`, { domain: '<script>alert("x")</script>.example.com' });
    expect(crafted.status).toBe(422);
    expect(crafted.text).not.toContain("<script>alert");
    expect(crafted.text).toContain("&lt;script");
    expect(await deps.store.domains.list(project.id)).toEqual([]);
  });
});

import { productionUrl } from "../src/model/urls.ts";
import { createProxy } from "../src/proxy/proxy.ts";
import { createRuntime } from "../src/runtime/runtime.ts";
import { testDeps, testUser } from "../src/testing/deps.ts";
import { deployBuildOutput, vcConfig } from "../src/testing/functions.ts";
import { siteProject } from "../src/testing/sites.ts";

const deps = await testDeps({ FUNCTION_IDLE_SECONDS: "120" });
const proxy = await createProxy(
  deps,
  { reconcileMs: 60_000 },
  { runtime: () => createRuntime(deps), peer: () => "127.0.0.1" },
);
const { user } = await testUser(deps);
const project = await siteProject(deps, user.id);
await deployBuildOutput(deps, project, {
  "config.json": JSON.stringify({ version: 3, routes: [{ handle: "filesystem" }] }),
  "static/index.html": "<h1>home</h1>",
  "functions/api/hello.func/.vc-config.json": vcConfig(),
  "functions/api/hello.func/index.mjs": `export function GET() { return new Response("hello world"); }`,
});
await proxy.reconcile();
const host = new URL(productionUrl(project, deps.config)).host;
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => proxy.fetch(r) });
console.log(await (await fetch(`http://127.0.0.1:${server.port}/api/hello`, { headers: { host } })).text());
const w = Bun.spawn(
  ["wrk", "-t1", "-c50", "-d8s", "-H", `Host: ${host}`, `http://127.0.0.1:${server.port}/api/hello`],
  { stdout: "pipe" },
);
const text = await new Response(w.stdout).text();
console.log(text);
const counts: Record<number, number> = {};
const conc = await Promise.all(
  Array.from({ length: 50 }, () =>
    fetch(`http://127.0.0.1:${server.port}/api/hello`, { headers: { host } }).then(
      async (r) => `${r.status} ${(await r.text()).match(/<title>[^<]*/)?.[0] ?? ""}`,
    ),
  ),
);
const tally: Record<string, number> = {};
for (const c of conc) tally[c] = (tally[c] ?? 0) + 1;
console.log(tally);
for (let i = 0; i < 50; i++) {
  const r = await fetch(`http://127.0.0.1:${server.port}/api/hello`, { headers: { host } });
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  if (r.status !== 200 && i < 2) console.log(await r.text());
  else await r.text();
}
console.log(counts);
server.stop(true);
await proxy.stop();
await deps.close();
process.exit(0);

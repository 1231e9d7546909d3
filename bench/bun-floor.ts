// Bench support for bench/proxy.ts: the floor under any proxy written for Bun. A bare `Bun.serve` answering the
// bench site from memory with a prebuilt Response per path: no Host routing, no manifest, no content negotiation
// beyond gzip, no metrics or analytics; one Map lookup and `new Response(blob, { headers })` per request, the least
// a JavaScript handler can do. What separates it from nginx is Bun's HTTP server itself; what separates our proxy
// from it is our code. Run by bench/proxy.ts: bun bench/bun-floor.ts <site dir> <port> <processes (1 or 2)>

import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const [site = "", portText = "", processesText = "1"] = process.argv.slice(2);
const port = Number(portText);
const processes = Number(processesText);
if (site === "" || !Number.isInteger(port) || (processes !== 1 && processes !== 2)) {
  console.error("usage: bun bench/bun-floor.ts <site dir> <port> <processes: 1 or 2>");
  process.exit(2);
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  png: "image/png",
};

interface Entry {
  identity: { body: Blob; headers: Headers };
  gzip: { body: Blob; headers: Headers } | null;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const modified = new Date().toUTCString();
const entries = new Map<string, Entry>();
for (const file of walk(site)) {
  if (file.endsWith(".gz")) continue;
  const path = `/${relative(site, file)}`;
  const extension = path.slice(path.lastIndexOf(".") + 1);
  const base = {
    "content-type": TYPES[extension] ?? "application/octet-stream",
    "cache-control": path.startsWith("/assets/")
      ? "public, max-age=31536000, immutable"
      : "public, max-age=0, must-revalidate",
    "x-content-type-options": "nosniff",
    "last-modified": modified,
  };
  const data = await Bun.file(file).bytes();
  const etag = `"${Bun.hash(data).toString(16)}"`;
  const gz = Bun.file(`${file}.gz`);
  const entry: Entry = {
    identity: { body: new Blob([data]), headers: new Headers({ ...base, etag }) },
    gzip: (await gz.exists())
      ? {
          body: new Blob([await gz.bytes()]),
          headers: new Headers({
            ...base,
            etag: `"${etag.slice(1, -1)}-gz"`,
            "content-encoding": "gzip",
            vary: "Accept-Encoding",
          }),
        }
      : null,
  };
  entries.set(path, entry);
  // Clean URLs, as the proxy and nginx's try_files serve them: /about -> /about.html, / -> /index.html.
  if (path.endsWith(".html")) entries.set(path.slice(0, -".html".length), entry);
  if (path === "/index.html") entries.set("/", entry);
}
const notFound = { body: new Blob(["not found\n"]), headers: new Headers({ "content-type": "text/plain" }) };

Bun.serve({
  hostname: "127.0.0.1",
  port,
  reusePort: processes > 1,
  fetch(request) {
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const query = url.indexOf("?", start);
    const entry = entries.get(query === -1 ? url.slice(start) : url.slice(start, query));
    if (entry === undefined) return new Response(notFound.body, { status: 404, headers: notFound.headers });
    const variant =
      entry.gzip !== null && (request.headers.get("accept-encoding") ?? "").includes("gzip")
        ? entry.gzip
        : entry.identity;
    return new Response(variant.body, { headers: variant.headers });
  },
});

// A second process on the same port (SO_REUSEPORT), as nginx runs a worker per core; it exits with this one.
if (processes > 1 && process.env.BUN_FLOOR_CHILD !== "1") {
  const child = Bun.spawn(["bun", import.meta.path, site, String(port), String(processes)], {
    env: { ...process.env, BUN_FLOOR_CHILD: "1" },
    stdout: "inherit",
    stderr: "inherit",
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      child.kill("SIGTERM");
      process.exit(0);
    });
}

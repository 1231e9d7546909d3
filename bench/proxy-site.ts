// Bench support for bench/proxy.ts: the generated site (the same bytes every run), its deployment as a build
// would store it, and nginx's configuration for serving the same files.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { uploadOutput } from "../builder/upload.ts";
import { loadConfig } from "../src/config/config.ts";
import { createProject } from "../src/deploy/projects.ts";
import { openDeps } from "../src/deps.ts";
import { createUser } from "../src/identity/accounts.ts";
import { storedDeployment } from "../src/testing/store-deployment.ts";

export const HOST = "bench.localhost";
export const BUNDLE = "/assets/app.3f9a1c2b.js";
export const PAGES = 1000;

/** Deterministic pseudo-random numbers, so every run generates the same site. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const WORDS =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua deploy static site preview branch rollback".split(
    " ",
  );

function prose(rand: () => number, bytes: number): string {
  let out = "";
  while (out.length < bytes) out += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return out.slice(0, bytes);
}

/** Minified-looking JavaScript: identifiers and literals vary, as in a real bundle (compresses ~3-4x). */
function bundle(rand: () => number, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const id = Math.floor(rand() * 1e6).toString(36);
    const part = `function ${id}_${i}(e,t){var n=e.${WORDS[i % WORDS.length]}||${Math.floor(rand() * 1e5)};return t.push("${prose(rand, 12 + Math.floor(rand() * 20))}"),n*${(rand() * 100).toFixed(3)}}`;
    parts.push(part);
    size += part.length;
  }
  return parts.join(";").slice(0, bytes);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><script type="module" src="${BUNDLE}"></script></head><body><main><h1>${title}</h1><p>${body}</p></main></body></html>\n`;
}

/** The site: a 2 KB index, a 150 KB bundle, 1,000 pages of 1-4 KB, a 500 KB image. */
export function generateSite(root: string): void {
  const rand = random(42);
  const write = (path: string, content: string | Uint8Array) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  const index = page("Home", prose(rand, 1700));
  write("index.html", `${index}<!--${"x".repeat(Math.max(0, 2048 - index.length - 8))}-->\n`);
  write(BUNDLE.slice(1), bundle(rand, 150 * 1024));
  for (let i = 0; i < PAGES; i++)
    write(`pages/p${i}.html`, page(`Page ${i}`, prose(rand, 900 + Math.floor(rand() * 3000))));
  const image = new Uint8Array(500 * 1024);
  for (let i = 0; i < image.length; i++) image[i] = Math.floor(rand() * 256);
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  write("img/hero.png", image);
}

/** Stores the site as the production deployment of project "bench" in `dataDir` (as a build would). */
export async function deploy(dataDir: string, site: string): Promise<void> {
  const deps = await openDeps(loadConfig({ MINIVERCEL_DATA: dataDir }));
  try {
    const user = await createUser(deps.store, "bench@example.com", "bench password");
    const project = await createProject(deps.store, deps.config, user.id, {
      name: "bench",
      subDomain: "bench",
    });
    const d = await storedDeployment(deps.store, {
      projectId: project.id,
      userId: user.id,
      status: "IN_PROGRESS",
    });
    await uploadOutput(deps.artifacts, d.id, site, { log: (m) => console.log(`  upload: ${m}`) });
    await deps.store.deployments.markReady(d.id);
  } finally {
    await deps.close();
  }
}

export function nginxConfig(dir: string, site: string, port: number, workers: string): string {
  const conf = join(dir, `nginx-${workers}.conf`);
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes ${workers};
daemon off;
pid ${join(dir, `nginx-${workers}.pid`)};
error_log ${join(dir, `nginx-${workers}.log`)} warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_errors on;
  gzip_static on;
  gzip_vary on;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    server_name ${HOST};
    root ${site};
    location / {
      try_files $uri $uri.html $uri/ =404;
      add_header Cache-Control "public, max-age=0, must-revalidate";
      add_header X-Content-Type-Options nosniff;
    }
    location /assets/ {
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header X-Content-Type-Options nosniff;
    }
  }
}
`,
  );
  return conf;
}

/** gzip_static serves <file>.gz: precompress what our upload precompresses (text over 1 KB), at level 9. */
export async function precompressForNginx(site: string): Promise<void> {
  const glob = new Bun.Glob("**/*.{html,js}");
  for await (const path of glob.scan(site)) {
    const data = await Bun.file(join(site, path)).bytes();
    if (data.length >= 1024) writeFileSync(join(site, `${path}.gz`), gzipSync(data, { level: 9 }));
  }
}

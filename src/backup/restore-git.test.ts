// Restoring push repositories from a crafted backup: the archive's git hooks and repository config never reach
// the restored directory, and a push through the real git http-backend runs only the platform's own hook.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../config/config.ts";
import { createProject } from "../deploy/projects.ts";
import { type Deps, openDeps } from "../deps.ts";
import { ensurePushRepo, pushRepoPath, pushRepoUrl, restoredRepoConfig } from "../git/repos.ts";
import { type Running, startRoles } from "../roles.ts";
import { tempDir, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo } from "../testing/repos.ts";
import { createBackup } from "./backup.ts";
import { FILES_ENTRY, HEADER_ENTRY } from "./format.ts";
import type { Output } from "./meter.ts";
import { type RestoreSummary, restoreBackup } from "./restore.ts";
import { collect, readTar, tarEnd, tarFile, toStream } from "./tar.ts";

const quiet: Output = { isTTY: false, write: () => {} };
const encode = (text: string) => new TextEncoder().encode(text);
const sha = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

// Async: the restored server runs in this process, so a blocking spawn would deadlock it.
async function git(cwd: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(["git", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "/bin/false",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `${out}${err}` };
}

interface Entry {
  data: Uint8Array;
  mode: number;
}

/** Rewrites a backup: its entries (header and file list aside) edited, the file list made to match again. */
async function rewrite(file: string, edit: (entries: Map<string, Entry>) => void): Promise<string> {
  const entries = new Map<string, Entry>();
  let header: Entry | null = null;
  const gunzipped = Bun.file(file).stream().pipeThrough(new DecompressionStream("gzip"));
  for await (const entry of readTar(gunzipped)) {
    const data = await collect(entry.body);
    if (entry.path === HEADER_ENTRY) header = { data, mode: entry.mode };
    else if (entry.path !== FILES_ENTRY) entries.set(entry.path, { data, mode: entry.mode });
  }
  if (!header) throw new Error("no header in the genuine backup");
  edit(entries);
  const list = encode(
    JSON.stringify({
      files: [...entries].map(([path, e]) => ({ path, size: e.data.length, sha256: sha(e.data) })),
    }),
  );
  const first = header;
  async function* tar() {
    yield* tarFile(HEADER_ENTRY, first.data.length, [first.data]);
    for (const [path, e] of entries) yield* tarFile(path, e.data.length, [e.data], { mode: e.mode });
    yield* tarFile(FILES_ENTRY, list.length, [list]);
    yield tarEnd();
  }
  const out = join(tempDir("minivercel-crafted-"), "crafted.tar.gz");
  await Bun.write(out, new Response(toStream(tar()).pipeThrough(new CompressionStream("gzip"))));
  return out;
}

let source: Deps;
let token = "";
const ids = { pushed: "", empty: "", pushedSub: "", emptySub: "" };
/** Every planted program touches a file here when it runs: the folder must stay empty. */
const markers = tempDir("minivercel-planted-markers-");
let fixture: ReturnType<typeof fixtureRepo>;
let crafted = "";
let target = "";
let internalsTarget = "";
let summary: RestoreSummary;

const planted = (name: string) => `#!/bin/sh\ntouch '${join(markers, name)}'\n`;
/** Programs outside any archive that a restored config could point git at. */
const elsewhere = tempDir("minivercel-planted-hooks-");
const ALL_HOOKS = [
  "pre-receive",
  "update",
  "post-receive",
  "post-update",
  "reference-transaction",
  "proc-receive",
];

/** Paths a crafted archive adds that restore must leave out (beside the hooks and the config). */
const leftOut = (repo: string) => [
  `${repo}/commondir`,
  `${repo}/.git`,
  `${repo}/objects/info/alternates`,
  `${repo}/info/attributes`,
  ".git/config",
  "git/.git/config",
  "cache/poisoned/file",
];

beforeAll(async () => {
  source = await testDeps();
  const { user, token: made } = await testUser(source);
  token = made;
  const dataDir = source.config.dataDir;
  // One repository with pushed history, one created but never pushed to (it has empty folders only).
  const pushed = await createProject(source.store, source.config, user.id, { name: "Pushed" });
  const empty = await createProject(source.store, source.config, user.id, { name: "Empty" });
  Object.assign(ids, {
    pushed: pushed.id,
    empty: empty.id,
    pushedSub: pushed.subDomain,
    emptySub: empty.subDomain,
  });
  ensurePushRepo(dataDir, pushed.id, "main");
  ensurePushRepo(dataDir, empty.id, "main");
  await source.store.projects.update(user.id, pushed.id, { gitUrl: pushRepoUrl(dataDir, pushed.id) });
  fixture = fixtureRepo({ "index.html": "<h1>before the backup</h1>" });
  expect((await git(fixture.dir, "push", pushRepoPath(dataDir, pushed.id), "main")).code).toBe(0);

  const genuine = join(tempDir("minivercel-genuine-"), "backup.tar.gz");
  await createBackup({ dataDir, file: genuine, secretKeyFromEnv: false, out: quiet });

  for (const hook of ALL_HOOKS) {
    writeFileSync(join(elsewhere, hook), planted(`hooks-path-${hook}`));
    chmodSync(join(elsewhere, hook), 0o755);
  }
  writeFileSync(join(elsewhere, "program"), planted("config-program"));
  chmodSync(join(elsewhere, "program"), 0o755);
  // The hooks and config: restored, then pushed to. The rest: other ways into git, checked on the disk only
  // (a `.git` file naming another folder, say, makes git http-backend serve that folder instead).
  crafted = await rewrite(genuine, (entries) => {
    for (const id of [ids.pushed, ids.empty]) {
      const repo = `git/${id}.git`;
      for (const hook of ALL_HOOKS)
        entries.set(`${repo}/hooks/${hook}`, { data: encode(planted(`archive-${hook}`)), mode: 0o755 });
      const config = entries.get(`${repo}/config`);
      if (!config) throw new Error(`the genuine backup has no ${repo}/config`);
      const evil = [
        "[core]",
        `\thooksPath = ${elsewhere}`,
        `\tfsmonitor = ${join(elsewhere, "program")}`,
        `\tsshCommand = ${join(elsewhere, "program")}`,
        '[filter "x"]',
        `\tclean = ${join(elsewhere, "program")}`,
        `\tsmudge = ${join(elsewhere, "program")}`,
        "[receive]",
        "\tfsckObjects = false",
        "[uploadpack]",
        `\tpackObjectsHook = ${join(elsewhere, "program")}`,
        "",
      ].join("\n");
      entries.set(`${repo}/config`, {
        data: encode(`${new TextDecoder().decode(config.data)}${evil}`),
        mode: 0o600,
      });
    }
  });
  const internals = await rewrite(genuine, (entries) => {
    for (const path of leftOut(`git/${ids.pushed}.git`))
      entries.set(path, { data: encode(`gitdir: ${elsewhere}\n${planted("left-out")}`), mode: 0o755 });
  });
  internalsTarget = join(tempDir("minivercel-restored-"), "data");
  await restoreBackup({
    file: internals,
    dataDir: internalsTarget,
    force: false,
    secretKeyFromEnv: false,
    out: quiet,
  });
  target = join(tempDir("minivercel-restored-"), "data");
  summary = await restoreBackup({
    file: crafted,
    dataDir: target,
    force: false,
    secretKeyFromEnv: false,
    out: quiet,
  });
}, 60_000);
afterAll(async () => {
  await source.close();
});

describe("restore of a crafted backup", () => {
  test("writes none of the archive's hooks and replaces each repository's config with a safe one", () => {
    for (const id of [ids.pushed, ids.empty]) {
      const repo = pushRepoPath(target, id);
      expect(existsSync(join(repo, "HEAD"))).toBe(true);
      expect(existsSync(join(repo, "hooks"))).toBe(false);
      const config = readFileSync(join(repo, "config"), "utf8");
      expect(config).toBe(restoredRepoConfig(null) ?? "no safe config");
      expect(config).not.toContain(elsewhere);
      expect(config).toContain("fsckObjects = true");
    }
    expect(summary.notes.join("\n")).toMatch(/left out \d+ file\(s\) that restore never writes/);
    expect(readdirSync(markers)).toEqual([]);
  });

  test("writes no other file through which git would run or read something else", () => {
    const repo = `git/${ids.pushed}.git`;
    for (const path of leftOut(repo)) expect(existsSync(join(internalsTarget, path))).toBe(false);
    expect(existsSync(join(internalsTarget, repo, "HEAD"))).toBe(true);
  });

  test("a push through git http-backend runs only the platform's hook, and deploys", async () => {
    const restored = await openDeps(
      loadConfig({
        MINIVERCEL_DATA: target,
        PORT: "0",
        PROXY_PORT: "0",
        MINIVERCEL_ROLE: "api,worker",
        MINIVERCEL_ALLOW_LOCAL_GIT: "0",
      }),
    );
    let roles: Running | null = null;
    try {
      roles = await startRoles(restored);
      const port = new URL(roles.urls.api ?? "").port;
      const remote = (sub: string) => `http://x:${token}@127.0.0.1:${port}/git/${sub}.git`;
      const sha = fixture.commit({ "index.html": "<h1>after the restore</h1>" });
      const pushes = [
        await git(fixture.dir, "push", remote(ids.pushedSub), "main"),
        // The never-pushed repository works too, although the backup held none of its (empty) folders.
        await git(fixture.dir, "push", remote(ids.emptySub), "main"),
      ];
      // None of the planted programs ran: not the archive's hooks, not those its config pointed at.
      expect(readdirSync(markers)).toEqual([]);
      for (const push of pushes) {
        expect(push.code).toBe(0);
        expect(push.output).toContain(
          `remote: minivercel: production deployment of main (${sha.slice(0, 12)})`,
        );
      }
      for (const id of [ids.pushed, ids.empty]) {
        // The server wrote its own hook when it opened the repository, and only that one.
        expect(readdirSync(join(pushRepoPath(target, id), "hooks"))).toEqual(["post-receive"]);
        const [deployment] = (
          await restored.store.deployments.list((await restored.store.projects.find(id))?.userId ?? "", id, {
            limit: 10,
            cursor: null,
          })
        ).items;
        expect(deployment?.commitSha).toBe(sha);
        const until = Date.now() + 120_000;
        let status = deployment?.status;
        while (status !== "READY" && status !== "FAIL" && Date.now() < until) {
          await Bun.sleep(100);
          status = (await restored.store.deployments.find(deployment?.id ?? ""))?.status;
        }
        expect(status).toBe("READY");
        const file = (await restored.artifacts.getManifest(deployment?.id ?? ""))?.files["/index.html"];
        expect(await (await restored.artifacts.getBlob(file?.hash ?? ""))?.text()).toBe(
          "<h1>after the restore</h1>",
        );
      }
    } finally {
      await roles?.stop();
      await restored.close();
    }
  }, 240_000);
});

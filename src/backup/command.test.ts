// The backup and restore commands as a user runs them: exit codes, one-line refusals, scaled mode pointed at the docs.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../testing/deps.ts";

const MAIN = resolve(import.meta.dir, "../main.ts");

async function cli(args: string[], extra: Record<string, string> = {}, stdin?: string) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: tempDir("minivercel-cwd-"),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("minivercel-home-"), ...extra },
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Exit 2, nothing on stdout, one line naming the problem (plus at most the --help hint), no stack trace. */
function expectRefusal(run: { code: number; stdout: string; stderr: string }, message: RegExp) {
  const lines = run.stderr.trimEnd().split("\n");
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
  expect(lines[0]).toMatch(/^minivercel: /);
  expect(lines[0]).toMatch(message);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(run.stderr).not.toMatch(/^\s+at |^error: |^\w*Error: /m);
}

describe("backup and restore commands", () => {
  test("help, and usage mistakes exit 2", async () => {
    expect((await cli(["--help"])).stdout).toContain("backup <file>");
    const help = await cli(["restore", "--help"]);
    expect({ code: help.code, usage: help.stdout.startsWith("Usage: minivercel restore <file>") }).toEqual({
      code: 0,
      usage: true,
    });
    expectRefusal(await cli(["backup"]), /give the backup file/);
    expectRefusal(await cli(["backup", "a", "b"]), /unexpected argument 'b'/);
    expectRefusal(await cli(["backup", "a", "--force"]), /unknown option --force/);
  });

  test("scaled mode is refused with a pointer to the documented procedure, and nothing is written", async () => {
    const out = tempDir("minivercel-out-");
    const file = join(out, "b.tar.gz");
    const postgres = await cli(["backup", file], { DATABASE_URL: "postgres://mv@127.0.0.1:1/mv" });
    expectRefusal(postgres, /embedded mode only.*Postgres \(DATABASE_URL\).*docs\/operations\.md "Backups"/);
    const s3 = await cli(["restore", file], {
      S3_BUCKET: "sites",
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
    });
    expectRefusal(s3, /S3\/R2/);
    expect(readdirSync(out)).toEqual([]);
  });

  test("backup, then restore: refused into a non-empty directory or from a damaged file, done into a new one", async () => {
    const data = tempDir("minivercel-data-");
    const env = { MINIVERCEL_DATA: data };
    expect(
      (await cli(["user", "create", "ops@example.com", "--password-stdin"], env, "a long password\n")).code,
    ).toBe(0);
    const file = join(tempDir("minivercel-out-"), "b.tar.gz");
    const backup = await cli(["backup", file], env);
    expect({ code: backup.code, stdout: backup.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^backup of .* written to .*b\.tar\.gz \(\d+ files, [\d.]+ [KM]?B\)\n$/),
    });

    const busy = tempDir("minivercel-busy-");
    writeFileSync(join(busy, "mine.txt"), "keep me");
    expectRefusal(await cli(["restore", file, "--data", busy]), /is not empty.*--force/);
    expect(readdirSync(busy)).toEqual(["mine.txt"]);

    const cut = `${file}.cut`;
    writeFileSync(cut, readFileSync(file).subarray(0, 200));
    const fresh = join(tempDir("minivercel-fresh-"), "data");
    expectRefusal(await cli(["restore", cut, "--data", fresh]), /not a usable minivercel backup/);
    expect(existsSync(fresh)).toBe(false);
    expectRefusal(await cli(["restore", `${file}.missing`, "--data", fresh]), /no backup file/);

    const restored = await cli(["restore", file, "--data", fresh]);
    expect({ code: restored.code, stdout: restored.stdout }).toEqual({
      code: 0,
      stdout: expect.stringContaining(`into ${fresh}`),
    });
    // The account came along: a token can be made for it on the restored directory.
    const token = await cli(["token", "create", "ops@example.com", "--data", fresh]);
    expect(token.code).toBe(0);
  });
});

// Test support: a real git server on 127.0.0.1 (`git daemon`, the git:// protocol) serving fixture repositories
// under owner/name paths, so that a project's git URL and a provider's webhook payload can name the same
// repository while builds clone it for real.

import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./deps.ts";

export interface GitDaemon {
  /** git://127.0.0.1:<port>/<path>.git */
  url(path: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

/** Serves each `repos` entry (path like "octo/site" -> a fixture repository's directory) until stopped. */
export async function gitDaemon(repos: Record<string, string>): Promise<GitDaemon> {
  const base = tempDir("minivercel-git-daemon-");
  for (const [path, dir] of Object.entries(repos)) {
    const served = join(base, `${path}.git`);
    mkdirSync(dirname(served), { recursive: true });
    symlinkSync(join(dir, ".git"), served);
  }
  const port = await freePort();
  const daemon = Bun.spawn(
    [
      "git",
      "daemon",
      "--reuseaddr",
      "--export-all",
      "--listen=127.0.0.1",
      `--port=${port}`,
      `--base-path=${base}`,
      "--log-destination=none",
      base,
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  const end = Date.now() + 10_000;
  for (;;) {
    const up = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
      (socket) => {
        socket.end();
        return true;
      },
      () => false,
    );
    if (up) break;
    if (Date.now() > end) throw new Error("git daemon did not start");
    await Bun.sleep(50);
  }
  return {
    url: (path) => `git://127.0.0.1:${port}/${path}.git`,
    async stop() {
      daemon.kill();
      await daemon.exited;
    },
  };
}

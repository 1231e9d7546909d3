// Preview images, the capture: a headless Chromium loads one deployment's front page inside the build sandbox and
// writes a screenshot. The page is untrusted, so the browser gets no network of its own (network "none": only the
// sandbox's loopback); its one way out is an HTTP proxy on that loopback, relayed over a unix socket to this
// process (relay.ts), which answers only for the deployment's own host. No cookie, no token, nothing of the
// platform's is in the browser: a fresh profile in the sandbox's private /tmp, gone with it.

import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  platformBinary,
  type ReadOnlyBind,
  runSandboxed,
  SANDBOX_BUN_DIR,
  type SandboxMode,
  visiblePath,
} from "../sandbox/sandbox.ts";
import { type RelayUpstream, startRelay } from "./relay.ts";

/** The viewport the page is laid out in; the dashboard shows the image scaled down. */
export const VIEWPORT = { width: 1280, height: 800 };
/** A screenshot larger than this is refused (a 1280x800 PNG is far smaller). */
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface CaptureRequest {
  /** The Chromium executable (SCREENSHOT_BROWSER). */
  browser: string;
  /** The page: http://<the deployment's host>/ (the relay maps it to `upstream`). */
  url: string;
  upstream: RelayUpstream;
  sandbox: { mode: SandboxMode; helperPath?: string };
  timeoutMs: number;
  memoryBytes: number;
  signal?: AbortSignal;
}

// In the sandbox: the relay (Bun, the platform's own binary) listens on the sandbox's loopback and says its port in
// a file; then the browser runs with it as its proxy. Arguments: bun, the relay's script, the browser, the page,
// then the browser's flags. The exit code says which step failed.
const SCRIPT = `out=$PWD
bun=$1 relay=$2 browser=$3 url=$4
shift 4
"$bun" -e "$relay" "$out/relay.sock" "$out/relay.port" &
relay_pid=$!
i=0
until [ -s "$out/relay.port" ]; do
  i=$((i + 1))
  [ "$i" -le 200 ] || exit 20
  sleep 0.05
done
port=$(cat "$out/relay.port")
"$browser" "$@" --proxy-server="http://127.0.0.1:$port" "--proxy-bypass-list=<-loopback>" \\
  --screenshot="$out/shot.png" -- "$url" 2>"$out/browser.err" >/dev/null
code=$?
kill "$relay_pid" 2>/dev/null
[ "$code" -eq 0 ] || exit 21
[ -s "$out/shot.png" ] || exit 22`;

// The in-sandbox half of the relay: TCP on the sandbox's loopback -> the unix socket bound in from this process.
const RELAY = `const net = require("node:net");
const [sock, portFile] = process.argv.slice(-2);
const server = net.createServer((client) => {
  const upstream = net.connect(sock);
  client.pipe(upstream).pipe(client);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => require("node:fs").writeFileSync(portFile, String(server.address().port)));`;

/** Chromium's flags: headless, no GPU, a fresh profile, nothing phoning home, the fixed viewport. */
function browserFlags(): string[] {
  return [
    "--headless=new",
    // Chromium's own sandbox needs user namespaces, which the build sandbox (its boundary here) does not allow.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=MediaRouter,OptimizationHints,Translate",
    "--mute-audio",
    "--hide-scrollbars",
    "--user-data-dir=/tmp/profile",
    `--window-size=${VIEWPORT.width},${VIEWPORT.height}`,
    // Scripts and animations get this much virtual time to settle before the picture is taken.
    "--virtual-time-budget=5000",
  ];
}

/** What a capture gives: the PNG, or why there is none (never thrown: a preview's failure touches nothing else). */
export type Capture = { ok: true; png: Uint8Array } | { ok: false; problem: string };

export async function captureScreenshot(req: CaptureRequest): Promise<Capture> {
  const workspace = await mkdtemp(join(tmpdir(), "minivercel-preview-"));
  const target = new URL(req.url);
  const relay = startRelay(join(workspace, "relay.sock"), target.host, req.upstream);
  try {
    const bun = platformBinary();
    const sandboxed = req.sandbox.mode === "bwrap";
    const result = await runSandboxed({
      mode: req.sandbox.mode,
      ...(req.sandbox.helperPath !== undefined && { helperPath: req.sandbox.helperPath }),
      workspace,
      cwd: "",
      command: SCRIPT,
      args: [visiblePath(req.sandbox.mode, bun), RELAY, req.browser, req.url, ...browserFlags()],
      env: {
        PATH: `${sandboxed ? SANDBOX_BUN_DIR : dirname(bun.source)}:/usr/local/bin:/usr/bin:/bin`,
        BUN_BE_BUN: "1",
        // No session bus in the sandbox: without this Chromium waits on it.
        DBUS_SESSION_BUS_ADDRESS: "disabled:",
      },
      readOnly: sandboxed ? [bun, ...browserBinds(req.browser)] : [],
      network: "none",
      limits: { memoryBytes: req.memoryBytes, pids: 512, timeoutMs: req.timeoutMs },
      onOutput: () => {},
      ...(req.signal !== undefined && { signal: req.signal }),
    });
    if (result.canceled) return { ok: false, problem: "canceled" };
    if (result.timedOut)
      return { ok: false, problem: `the page did not load within ${req.timeoutMs / 1000} s` };
    if (result.memoryExceeded) return { ok: false, problem: "the browser ran out of memory" };
    if (result.exitCode !== 0) {
      const why = await tail(join(workspace, "browser.err"));
      return { ok: false, problem: `the browser failed (exit ${result.exitCode})${why ? `: ${why}` : ""}` };
    }
    return await readPng(join(workspace, "shot.png"));
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  } finally {
    await relay.stop();
    await rm(workspace, { recursive: true, force: true });
  }
}

/**
 * Where the browser's files are, when outside the sandbox's read-only /usr (a Chrome in /opt): that directory, at
 * the same path. Fonts' configuration too, or text is not drawn; all read-only.
 */
function browserBinds(browser: string): ReadOnlyBind[] {
  // Debian's /usr/bin/chromium is a script that reads its flags from /etc/chromium.d.
  const binds: ReadOnlyBind[] = ["/etc/fonts", "/etc/chromium.d", "/etc/chromium"]
    .filter((dir) => existsSync(dir))
    .map((dir) => ({ source: dir, target: dir }));
  const real = realpathSync(browser);
  if (!real.startsWith("/usr/")) binds.push({ source: dirname(real), target: dirname(real) });
  return binds;
}

async function readPng(path: string): Promise<Capture> {
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) return { ok: false, problem: "the browser wrote no screenshot" };
  if (info.size > MAX_IMAGE_BYTES) return { ok: false, problem: "the screenshot is too large" };
  const png = new Uint8Array(await Bun.file(path).arrayBuffer());
  if (!PNG_SIGNATURE.every((byte, i) => png[i] === byte))
    return { ok: false, problem: "the screenshot is no PNG" };
  return { ok: true, png };
}

/** The last line the browser printed that says something, for the log. */
async function tail(path: string): Promise<string> {
  const text = await Bun.file(path)
    .slice(-4096)
    .text()
    .catch(() => "");
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !/dbus|Fontconfig/i.test(line));
  return (lines[lines.length - 1] ?? "").slice(0, 300);
}

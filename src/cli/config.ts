// CLI settings: the server and token saved by `login` (mode 0600), overridable from the environment for CI,
// and the project a folder is linked to (.minivercel.json, written on its first deploy).

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError } from "./http.ts";

/**
 * The environment (main.ts passes process.env). Read: HOME, XDG_CONFIG_HOME, and MINIVERCEL_URL /
 * MINIVERCEL_TOKEN, which override the saved server and token (CI).
 */
export type CliEnv = Readonly<Record<string, string | undefined>>;

export interface Credentials {
  url: string;
  token: string;
}

export const LINK_FILE = ".minivercel.json";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function configPath(env: CliEnv): string {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, ".config") : null);
  if (!base) throw new CliError("cannot find the config directory: set HOME or XDG_CONFIG_HOME", 2);
  return join(base, "minivercel", "config.json");
}

/** "http://host:9000/" -> "http://host:9000"; anything but an http(s) URL is refused. */
export function normalizeServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.includes("://") ? value : `http://${value}`);
  } catch {
    throw new CliError(`not a server URL: ${JSON.stringify(value)}`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliError(`the server URL must be http or https: ${JSON.stringify(value)}`, 2);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function readSaved(env: CliEnv): Partial<Credentials> {
  const path = configPath(env);
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new CliError(`${path} is not valid JSON: run 'minivercel login' again`, 2);
  }
  if (!isRecord(parsed)) return {};
  return {
    ...(typeof parsed.url === "string" && { url: parsed.url }),
    ...(typeof parsed.token === "string" && { token: parsed.token }),
  };
}

/** The saved server URL, for `login` to default to. */
export function savedUrl(env: CliEnv): string | null {
  return env.MINIVERCEL_URL || readSaved(env).url || null;
}

export function credentials(env: CliEnv): Credentials {
  const saved = env.MINIVERCEL_URL && env.MINIVERCEL_TOKEN ? {} : readSaved(env);
  const url = env.MINIVERCEL_URL || saved.url;
  const token = env.MINIVERCEL_TOKEN || saved.token;
  if (!url || !token)
    throw new CliError(
      "not logged in: run 'minivercel login <server-url>' (or set MINIVERCEL_URL and MINIVERCEL_TOKEN)",
      2,
    );
  return { url: normalizeServerUrl(url), token };
}

/** Writes the file with mode 0600 (its directory 0700), atomically: a reader never sees half of it. */
export function saveCredentials(env: CliEnv, creds: Credentials): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return path;
}

/** The project id a folder is linked to, or null. */
export function readLink(dir: string): string | null {
  const path = join(dir, LINK_FILE);
  if (!existsSync(path)) return null;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (isRecord(parsed) && typeof parsed.projectId === "string" && parsed.projectId !== "")
      return parsed.projectId;
  } catch {
    // fall through
  }
  throw new CliError(`${path} is not a valid project link: fix or delete it`, 2);
}

export function writeLink(dir: string, projectId: string): void {
  writeFileSync(join(dir, LINK_FILE), `${JSON.stringify({ projectId }, null, 2)}\n`);
}

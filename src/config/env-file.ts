// A settings file as systemd's EnvironmentFile= reads it (install.sh writes /etc/default/minivercel so): one
// NAME=value a line, # comments and blank lines skipped, a value in matching quotes unquoted. `doctor --env-file`.

import type { Env } from "./parse.ts";

export function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (line.startsWith("#") || match === null) continue;
    const [, name = "", value = ""] = match;
    const quoted = /^(["'])(.*)\1$/.exec(value.trim());
    env[name] = quoted ? (quoted[2] ?? "") : value.trim();
  }
  return env;
}

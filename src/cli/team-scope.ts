// The CLI's team: `--team <slug>` on any command, else MINIVERCEL_TEAM, else the one saved by `teams switch`;
// none means the personal scope. It travels as the x-minivercel-team header, which picks the scope projects are
// listed and created in (commands naming a project by id work in any scope the account is in).

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "./args.ts";
import { type CliEnv, configPath } from "./config.ts";
import { CliError } from "./http.ts";

export const TEAM_HEADER = "x-minivercel-team";

/** Takes `--team X` / `--team=X` out of `args` (it may stand anywhere); undefined when not given. */
export function takeTeamFlag(args: string[]): { args: string[]; team: string | undefined } {
  const rest: string[] = [];
  let team: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === "--team") {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("-")) throw new UsageError("--team needs a team slug");
      team = value;
      i++;
    } else if (arg.startsWith("--team=")) team = arg.slice("--team=".length);
    else rest.push(arg);
  }
  return { args: rest, team };
}

function readConfig(env: CliEnv): Record<string, unknown> {
  const path = configPath(env);
  if (!existsSync(path)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    throw new CliError(`${path} is not valid JSON: run 'minivercel login' again`, 2);
  }
}

/** The team commands act in: the flag, MINIVERCEL_TEAM, the saved one; null for the personal scope. */
export function activeTeam(env: CliEnv, flag: string | undefined): string | null {
  const chosen = flag ?? env.MINIVERCEL_TEAM ?? readConfig(env).team;
  return typeof chosen === "string" && chosen.trim() !== "" ? chosen.trim() : null;
}

/** Saves the current team (null: personal) next to the login, keeping the file's other keys and mode 0600. */
export function saveTeam(env: CliEnv, team: string | null): string {
  const path = configPath(env);
  const { team: _old, ...rest } = readConfig(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(team ? { ...rest, team } : rest, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return path;
}

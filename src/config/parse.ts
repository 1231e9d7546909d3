// Config readers: one environment variable each, validated, throwing ConfigError that names it.
// Only the config files call these; the rest of the code gets a built Config (src/config/config.ts).

import { ConfigError } from "../errors.ts";

export type Env = Record<string, string | undefined>;

/** A whole number in [min, max]; unset or empty: fallback. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A URL with one of `protocols`, trailing slashes dropped; unset or empty: null. */
export function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, "must be a URL");
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.map((p) => p.replace(":", "")).join(" or ")}`);
  }
  return raw.replace(/\/+$/, "");
}

/** Trimmed text; unset or blank: null. */
export function text(env: Env, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? null : raw.trim();
}

/** Text that must be set `because` of another variable. */
export function required(env: Env, name: string, because: string): string {
  const value = text(env, name);
  if (value === null) throw new ConfigError(name, `is required when ${because}`);
  return value;
}

/** A comma-separated list, blanks dropped. */
export function list(env: Env, name: string): string[] {
  return (text(env, name) ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** One of `allowed`, matched case-insensitively; unset: fallback. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (!found) throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got '${raw}'`);
  return found;
}

/** 1/true/yes/on or 0/false/no/off; unset: fallback. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got '${raw}'`);
}

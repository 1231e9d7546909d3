// Project environment variables: validated names, values encrypted at rest (AES-256-GCM), write-only to users;
// each applies to production deployments, preview ones or both, and a key may have a value per target.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { invalid, notFound } from "../errors.ts";
import { DEPLOYMENT_TARGETS, type DeploymentTarget } from "../model/entities.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";

const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VALUE_BYTES = 64 * 1024;
const MAX_VARS = 200;

/** Encrypts and decrypts env values with one 256-bit key (MINIVERCEL_SECRET_KEY, or a key file in the data dir). */
export interface Sealer {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** Loads the key: base64 from the environment, else `<dataDir>/secret.key`, created (0600) on first use. */
export function loadSecretKey(explicit: string | null, dataDir: string): Uint8Array<ArrayBuffer> {
  if (explicit) return new Uint8Array(Buffer.from(explicit, "base64"));
  const file = join(dataDir, "secret.key");
  if (!existsSync(file)) {
    writeFileSync(file, Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"), {
      mode: 0o600,
      flag: "wx",
    });
  }
  return new Uint8Array(Buffer.from(readFileSync(file, "utf8").trim(), "base64"));
}

export function createSealer(rawKey: Uint8Array<ArrayBuffer>): Sealer {
  const key = crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  return {
    async seal(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv },
        await key,
        new TextEncoder().encode(plaintext),
      );
      return `v1:${Buffer.from(iv).toString("base64")}:${Buffer.from(data).toString("base64")}`;
    },
    async open(sealed) {
      const [version, iv, data] = sealed.split(":");
      if (version !== "v1" || !iv || !data) throw new Error("env: unknown ciphertext format");
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: Buffer.from(iv, "base64") },
        await key,
        Buffer.from(data, "base64"),
      );
      return new TextDecoder().decode(plain);
    },
  };
}

export function assertEnvKey(key: string): string {
  if (!KEY_NAME.test(key)) {
    throw invalid(
      "variable names must start with a letter or '_' and contain only A-Z, a-z, 0-9 and '_'",
      "key",
    );
  }
  return key;
}

/** A variable as its owner sees it: never the value. */
export interface EnvVarView {
  key: string;
  targets: DeploymentTarget[];
  updatedAt: string;
}

/**
 * Checks the targets a variable applies to (the field `target`, as Vercel names it): production and/or preview,
 * at least one; returned without repeats, in display order. None given: both, as on Vercel.
 */
function envTargets(given: readonly string[] | undefined): DeploymentTarget[] {
  if (given === undefined) return [...DEPLOYMENT_TARGETS];
  const unknown = given.find((target) => !(DEPLOYMENT_TARGETS as readonly string[]).includes(target));
  if (unknown !== undefined)
    throw invalid(`target must be production and/or preview (not ${JSON.stringify(unknown)})`, "target");
  if (given.length === 0) throw invalid("target must name production, preview or both", "target");
  return DEPLOYMENT_TARGETS.filter((target) => given.includes(target));
}

/**
 * Sets `key` to `value` for `targets` (checked here: production and/or preview; none given: both); the key's
 * value for the other target is kept.
 */
export async function setEnvVar(
  store: Store,
  sealer: Sealer,
  userId: string,
  projectId: string,
  key: string,
  value: string,
  targets?: readonly string[],
): Promise<void> {
  const project = await getProject(store, userId, projectId, "write");
  assertEnvKey(key);
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw invalid("value must be at most 64 KB", "value");
  const wanted = envTargets(targets);
  // The variables the project will have: the key's ones for these targets only are replaced by one.
  const existing = await store.env.list(project.id);
  const kept = existing.filter((v) => v.key !== key || v.targets.some((target) => !wanted.includes(target)));
  if (kept.length + 1 > MAX_VARS) throw invalid(`a project can have at most ${MAX_VARS} variables`, "key");
  await store.env.set(project.id, key, wanted, await sealer.seal(value));
}

export async function listEnvVars(store: Store, userId: string, projectId: string): Promise<EnvVarView[]> {
  const project = await getProject(store, userId, projectId, "read");
  return (await store.env.list(project.id)).map(({ key, targets, updatedAt }) => ({
    key,
    targets,
    updatedAt,
  }));
}

/** Removes `key` for `targets` (checked here; none given: both); not found when it had a value for none of them. */
export async function removeEnvVar(
  store: Store,
  userId: string,
  projectId: string,
  key: string,
  targets?: readonly string[],
): Promise<void> {
  const project = await getProject(store, userId, projectId, "write");
  if (!(await store.env.remove(project.id, key, envTargets(targets)))) throw notFound("variable");
}

/**
 * Decrypted variables of one project for one target: what its builds and functions for a deployment of that
 * target see. Only the platform's own roles call this (the launcher, the function runtime), never for a user.
 */
export async function buildEnv(
  store: Store,
  sealer: Sealer,
  projectId: string,
  target: DeploymentTarget,
): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const v of await store.env.list(projectId)) {
    if (v.targets.includes(target)) vars[v.key] = await sealer.open(v.valueEncrypted);
  }
  return vars;
}

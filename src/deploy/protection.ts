// Deployment protection, the owner's operations (API, dashboard and CLI alike): the mode, the password and the
// bypass tokens. Every change is announced on route-changes, so every proxy applies it at once (a revoked token
// is refused by the next request, on every proxy).

import type { Deps } from "../deps.ts";
import { invalid, notFound } from "../errors.ts";
import { assertPassword, hashSecret, randomSecret } from "../identity/accounts.ts";
import type { ProtectionMode } from "../model/entities.ts";
import type { BypassToken } from "../store/protection.ts";
import type { Store } from "../store/store.ts";
import { getProject } from "./access.ts";
import { announceRoutes } from "./announce.ts";

/** Bypass tokens start with this, so scanners and people can tell them from API tokens (mv_). */
export const BYPASS_PREFIX = "mvb_";

type Parts = Pick<Deps, "store" | "bus">;

export async function setProtectionMode(
  { store, bus }: Parts,
  userId: string,
  projectId: string,
  mode: ProtectionMode,
): Promise<void> {
  const project = await getProject(store, userId, projectId, "admin");
  if (!(await store.protection.setMode(project.id, mode))) throw notFound("project");
  await announceRoutes(bus, project.id);
}

/** Sets the project's password (hashed like account passwords), or clears it with null. */
export async function setProtectionPassword(
  { store, bus }: Parts,
  userId: string,
  projectId: string,
  password: string | null,
): Promise<void> {
  const project = await getProject(store, userId, projectId, "admin");
  const hash = password === null ? null : await Bun.password.hash(assertPassword(password));
  if (!(await store.protection.setPassword(project.id, hash))) throw notFound("project");
  await announceRoutes(bus, project.id);
}

export function assertBypassName(name: string): string {
  const value = name.trim();
  if (value.length === 0 || value.length > 100) throw invalid("name must be 1 to 100 characters", "name");
  return value;
}

/** Creates a bypass token; its plaintext is returned only here and never stored. */
export async function createBypassToken(
  { store, bus }: Parts,
  userId: string,
  projectId: string,
  name: string,
): Promise<{ token: string; record: BypassToken }> {
  const project = await getProject(store, userId, projectId, "admin");
  const token = `${BYPASS_PREFIX}${randomSecret()}`;
  const record = await store.protection.addToken({
    projectId: project.id,
    name: assertBypassName(name),
    prefix: token.slice(0, 12),
    hash: hashSecret(token),
  });
  await announceRoutes(bus, project.id);
  return { token, record };
}

export async function listBypassTokens(
  store: Store,
  userId: string,
  projectId: string,
): Promise<BypassToken[]> {
  const project = await getProject(store, userId, projectId, "admin");
  return store.protection.tokens(project.id);
}

export async function revokeBypassToken(
  { store, bus }: Parts,
  userId: string,
  projectId: string,
  tokenId: string,
): Promise<void> {
  const project = await getProject(store, userId, projectId, "admin");
  if (!(await store.protection.revokeToken(project.id, tokenId))) throw notFound("bypass token");
  await announceRoutes(bus, project.id);
}

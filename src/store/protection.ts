// Deployment protection, store port: a project's mode, its password (hashed) and its bypass tokens (sha256 only).
// Callers check ownership of the project first (src/deploy/protection.ts); the proxy reads `access` unscoped.

import type { ProtectionMode } from "../model/entities.ts";

/** A bypass token as listed to its owner: never the token itself, which is shown once at creation. */
export interface BypassToken {
  id: string;
  projectId: string;
  name: string;
  /** First characters of the token, so owners can tell tokens apart. */
  prefix: string;
  createdAt: string;
}

/** What a proxy needs to decide access to a protected project's hosts. */
export interface AccessRule {
  projectId: string;
  /** The owner of a personal project, or the creator of a team's. */
  ownerId: string;
  /** Who may view its protected hosts signed in (mayView, src/model/protection.ts): its owner, or its team's members. */
  viewers: string[];
  mode: Exclude<ProtectionMode, "none">;
  passwordHash: string | null;
  /** sha256 (hex) of each live bypass token -> its id. */
  bypass: Map<string, string>;
}

export interface Protection {
  /** False when the project does not exist. */
  setMode(projectId: string, mode: ProtectionMode): Promise<boolean>;
  /** Sets (a hash) or clears (null) the project's password; false when the project does not exist. */
  setPassword(projectId: string, passwordHash: string | null): Promise<boolean>;
  addToken(input: { projectId: string; name: string; prefix: string; hash: string }): Promise<BypassToken>;
  /** Oldest first. */
  tokens(projectId: string): Promise<BypassToken[]>;
  /** Deletes the token; false when it is not this project's. */
  revokeToken(projectId: string, tokenId: string): Promise<boolean>;
  /**
   * Records a sign-in hand-off's nonce as used until `expiresAt`; true the first time, false ever after (on every
   * process sharing the store). Expired records are dropped on the way.
   */
  useHandoff(nonce: string, expiresAt: Date): Promise<boolean>;
  /** The rules of every protected project, or of one project (empty when it is not protected). */
  access(projectId?: string): Promise<AccessRule[]>;
}

/** Rows of protected projects and of their tokens -> one rule per project. */
export function toAccessRules(
  projects: {
    id: string;
    userId: string;
    mode: Exclude<ProtectionMode, "none">;
    passwordHash: string | null;
    teamId: string | null;
  }[],
  tokens: { projectId: string; id: string; hash: string }[],
  /** The members of each team that has a protected project. */
  teamMembers: { teamId: string; userId: string }[] = [],
): AccessRule[] {
  const rules = new Map<string, AccessRule>();
  for (const p of projects)
    rules.set(p.id, {
      projectId: p.id,
      ownerId: p.userId,
      viewers: p.teamId ? teamMembers.filter((m) => m.teamId === p.teamId).map((m) => m.userId) : [p.userId],
      mode: p.mode,
      passwordHash: p.passwordHash,
      bypass: new Map(),
    });
  for (const t of tokens) rules.get(t.projectId)?.bypass.set(t.hash, t.id);
  return [...rules.values()];
}

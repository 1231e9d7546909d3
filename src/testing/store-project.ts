// Test support for store contracts: a fresh user and one project of theirs, made through the store alone.

import type { Store } from "../store/store.ts";

/** A new user's new project with every setting at its default; names random, so a shared store can hold many. */
export async function storeProject(store: Store) {
  const user = await store.users.create({
    email: `u-${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: null,
  });
  const name = `p-${crypto.randomUUID().slice(0, 8)}`;
  return store.projects.create({
    userId: user.id,
    name,
    subDomain: name,
    gitUrl: null,
    customDomain: null,
    productionBranch: "main",
    rootDirectory: null,
    installCommand: null,
    buildCommand: null,
    startCommand: null,
    idleTimeoutMinutes: null,
    maxInstances: null,
    outputDirectory: null,
    buildTimeoutSeconds: null,
    spaFallback: true,
  });
}

// Project environment variables per target, store contract: a key holds one value per target, one variable may
// hold it for both, and setting or removing it for one target keeps the other's; run against every Store
// implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import type { DeploymentTarget } from "../model/entities.ts";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;
const both: DeploymentTarget[] = ["production", "preview"];

export function envContract(name: string, open: () => Promise<Store>): void {
  describe(`environment variables contract: ${name}`, () => {
    async function owned(store: Store) {
      const user = await store.users.create({ email: email(), passwordHash: null });
      return { user, project: await store.projects.create({ userId: user.id, ...settings() }) };
    }
    /** key, targets, ciphertext of each stored variable, in list order. */
    const rows = async (store: Store, projectId: string) =>
      (await store.env.list(projectId)).map((v) => [v.key, v.targets.join("+"), v.valueEncrypted]);

    test("set, overwrite, list by key, remove; gone with the project", async () => {
      const store = await open();
      const { user, project } = await owned(store);
      await store.env.set(project.id, "TOKEN", both, "c2");
      await store.env.set(project.id, "API_URL", both, "c1");
      await store.env.set(project.id, "API_URL", both, "c3");
      expect(await rows(store, project.id)).toEqual([
        ["API_URL", "production+preview", "c3"],
        ["TOKEN", "production+preview", "c2"],
      ]);
      expect((await store.env.list(project.id))[0]?.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(await store.env.remove(project.id, "TOKEN", both)).toBe(true);
      expect(await store.env.remove(project.id, "TOKEN", both)).toBe(false);
      await store.projects.delete(user.id, project.id);
      expect(await store.env.list(project.id)).toEqual([]);
    });

    test("one key, a value per target: production first, each replaced on its own", async () => {
      const store = await open();
      const { project } = await owned(store);
      await store.env.set(project.id, "DATABASE_URL", ["preview"], "preview-db");
      await store.env.set(project.id, "DATABASE_URL", ["production"], "production-db");
      expect(await rows(store, project.id)).toEqual([
        ["DATABASE_URL", "production", "production-db"],
        ["DATABASE_URL", "preview", "preview-db"],
      ]);
      await store.env.set(project.id, "DATABASE_URL", ["preview"], "preview-db-2");
      expect(await rows(store, project.id)).toEqual([
        ["DATABASE_URL", "production", "production-db"],
        ["DATABASE_URL", "preview", "preview-db-2"],
      ]);
      // Both at once replaces the two with one variable.
      await store.env.set(project.id, "DATABASE_URL", both, "shared-db");
      expect(await rows(store, project.id)).toEqual([["DATABASE_URL", "production+preview", "shared-db"]]);
    });

    test("setting one target of a shared variable splits it: the other target keeps its value", async () => {
      const store = await open();
      const { project } = await owned(store);
      await store.env.set(project.id, "API_URL", both, "shared");
      await store.env.set(project.id, "API_URL", ["production"], "prod-only");
      expect(await rows(store, project.id)).toEqual([
        ["API_URL", "production", "prod-only"],
        ["API_URL", "preview", "shared"],
      ]);
      await store.env.set(project.id, "OTHER", both, "o");
      await store.env.set(project.id, "OTHER", ["preview"], "o-preview");
      expect((await rows(store, project.id)).filter((r) => r[0] === "OTHER")).toEqual([
        ["OTHER", "production", "o"],
        ["OTHER", "preview", "o-preview"],
      ]);
    });

    test("removing one target keeps the other's value; removing a target it lacks is false", async () => {
      const store = await open();
      const { project } = await owned(store);
      await store.env.set(project.id, "SHARED", both, "s");
      await store.env.set(project.id, "PROD", ["production"], "p");
      expect(await store.env.remove(project.id, "SHARED", ["preview"])).toBe(true);
      expect(await store.env.remove(project.id, "PROD", ["preview"])).toBe(false);
      expect(await rows(store, project.id)).toEqual([
        ["PROD", "production", "p"],
        ["SHARED", "production", "s"],
      ]);
      expect(await store.env.remove(project.id, "SHARED", ["preview"])).toBe(false);
      // Both: whatever targets the key has.
      expect(await store.env.remove(project.id, "PROD", both)).toBe(true);
      await store.env.set(project.id, "SPLIT", ["production"], "1");
      await store.env.set(project.id, "SPLIT", ["preview"], "2");
      expect(await store.env.remove(project.id, "SPLIT", both)).toBe(true);
      expect(await rows(store, project.id)).toEqual([["SHARED", "production", "s"]]);
    });

    test("projects do not share variables", async () => {
      const store = await open();
      const a = await owned(store);
      const b = await owned(store);
      await store.env.set(a.project.id, "KEY", both, "a");
      await store.env.set(b.project.id, "KEY", ["preview"], "b");
      expect(await store.env.remove(b.project.id, "KEY", ["production"])).toBe(false);
      expect(await rows(store, a.project.id)).toEqual([["KEY", "production+preview", "a"]]);
      expect(await rows(store, b.project.id)).toEqual([["KEY", "preview", "b"]]);
    });

    test("concurrent sets of one key leave one value per target", async () => {
      const store = await open();
      const { project } = await owned(store);
      const targets: DeploymentTarget[][] = [both, ["production"], ["preview"]];
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          store.env.set(project.id, "RACE", targets[i % 3] ?? both, `v${i}`),
        ),
      );
      const listed = await store.env.list(project.id);
      const covered = listed.flatMap((v) => v.targets).sort();
      expect(covered).toEqual(["preview", "production"]);
    });
  });
}

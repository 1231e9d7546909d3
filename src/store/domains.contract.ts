// Custom domain claims, store contract: unverified claims coexist, one verified claim holds a domain and
// displaces the rest; a project holds several domains, each on its own, some redirecting to another. Run against
// every Store implementation (sqlite and Postgres) like store.contract.ts.

import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import type { Project } from "../model/entities.ts";
import { settings } from "./store.contract.ts";
import type { Store } from "./store.ts";

const email = () => `u-${crypto.randomUUID().slice(0, 8)}@example.com`;
const newDomain = () => `www.${crypto.randomUUID().slice(0, 8)}.example.com`;

/** The conflict of saving or verifying a domain that another project holds verified. */
async function expectTaken(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error instanceof AppError && [error.code, error.field, error.message]).toEqual([
    "conflict",
    "customDomain",
    "custom domain is already verified by another project",
  ]);
}

export function domainsContract(name: string, open: () => Promise<Store>): void {
  describe(`custom domain claims contract: ${name}`, () => {
    async function owner(store: Store) {
      const user = await store.users.create({ email: email(), passwordHash: null });
      const claim = (customDomain: string | null) =>
        store.projects.create({ userId: user.id, ...settings({ customDomain }) });
      return { user, claim };
    }
    const current = async (store: Store, project: Project) => store.projects.find(project.id);

    test("unverified claims coexist; the verified one displaces them, and then holds the domain", async () => {
      const store = await open();
      const [attacker, victim, third] = [await owner(store), await owner(store), await owner(store)];
      const domain = newDomain();
      const squat = await attacker.claim(domain);
      const real = await victim.claim(domain);
      // Domains compare case-insensitively (the API only stores lower case; the store does not rely on it).
      const shouting = await third.claim(domain.toUpperCase());
      const bystander = await third.claim(newDomain());

      const verified = await store.projects.markDomainVerified(real.id, domain);
      expect(verified?.project.customDomainVerifiedAt).not.toBeNull();
      expect(new Set(verified?.displaced)).toEqual(new Set([squat.id, shouting.id]));
      expect((await current(store, squat))?.customDomain).toBeNull();
      expect((await current(store, shouting))?.customDomain).toBeNull();
      expect((await current(store, bystander))?.customDomain).toBe(bystander.customDomain ?? "missing");
      const routes = (await store.projects.routes()).filter((r) => r.domains.some((d) => d.name === domain));
      expect(routes.map((r) => r.id)).toEqual([real.id]);

      // Held now: saving it elsewhere, in any case, on create or update, is refused and changes nothing.
      await expectTaken(attacker.claim(domain));
      await expectTaken(store.projects.update(attacker.user.id, squat.id, { customDomain: domain }));
      await expectTaken(
        store.projects.update(attacker.user.id, squat.id, {
          name: "Moved",
          customDomain: domain.toUpperCase(),
        }),
      );
      expect((await current(store, squat))?.name).toBe(squat.name);
      await expectTaken(store.projects.markDomainVerified(squat.id, domain));
      // The holder itself saves other settings, or the same domain again, as before.
      const renamed = await store.projects.update(victim.user.id, real.id, {
        name: "Shop",
        customDomain: domain,
      });
      expect(renamed?.customDomainVerifiedAt).toBe(verified?.project.customDomainVerifiedAt ?? "missing");
      // Once the holder lets go, anyone may claim it again (unverified).
      await store.projects.update(victim.user.id, real.id, { customDomain: null });
      const again = await store.projects.update(attacker.user.id, squat.id, { customDomain: domain });
      expect(again?.customDomain).toBe(domain);
      expect(again?.customDomainVerifiedAt).toBeNull();
    });

    test("of two projects verifying one domain at once, exactly one wins; the other is a conflict", async () => {
      const store = await open();
      const domain = newDomain();
      const projects = await Promise.all(
        Array.from({ length: 4 }, async () => (await owner(store)).claim(domain)),
      );
      const results = await Promise.allSettled(
        projects.map((p) => store.projects.markDomainVerified(p.id, domain)),
      );
      const won = results.flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value.project.id] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") await expectTaken(Promise.reject(r.reason));
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(3);
      const holders = await Promise.all(projects.map((p) => current(store, p)));
      expect(holders.filter((p) => p?.customDomain === domain).map((p) => p?.id)).toEqual(won);
    });

    test("a trusted save (DOMAIN_VERIFICATION=off) is verified at once: it displaces claims, or is refused", async () => {
      const store = await open();
      const [a, b] = [await owner(store), await owner(store)];
      const domain = newDomain();
      const leftover = await a.claim(domain);
      const trusted = await store.projects.create(
        { userId: b.user.id, ...settings({ customDomain: domain }) },
        0,
        { trustDomain: true },
      );
      expect(trusted.customDomainVerifiedAt).not.toBeNull();
      expect((await current(store, leftover))?.customDomain).toBeNull();
      await expectTaken(
        store.projects.update(a.user.id, leftover.id, { customDomain: domain }, { trustDomain: true }),
      );
      await expectTaken(
        store.projects.create({ userId: a.user.id, ...settings({ customDomain: domain }) }, 0, {
          trustDomain: true,
        }),
      );
      const other = newDomain();
      const moved = await store.projects.update(
        a.user.id,
        leftover.id,
        { customDomain: other },
        { trustDomain: true },
      );
      expect(moved?.customDomainVerifiedAt).not.toBeNull();
    });

    test("an old proof comes back with its domain, unless another project verified the domain since", async () => {
      const store = await open();
      const [a, b] = [await owner(store), await owner(store)];
      const domain = newDomain();
      const first = await a.claim(domain);
      await store.projects.markDomainVerified(first.id, domain);
      await store.projects.update(a.user.id, first.id, { customDomain: newDomain() });
      // Going back to a domain it proved makes it verified again, and that displaces claims made meanwhile.
      const meanwhile = await b.claim(domain);
      const back = await store.projects.update(a.user.id, first.id, { customDomain: domain });
      expect(back?.customDomainVerifiedAt).not.toBeNull();
      expect((await current(store, meanwhile))?.customDomain).toBeNull();

      // Another project's newer proof makes the old one worthless.
      await store.projects.update(a.user.id, first.id, { customDomain: newDomain() });
      const rival = await b.claim(domain);
      const displaced = await store.projects.markDomainVerified(rival.id, domain);
      expect(displaced?.displaced).toEqual([first.id]);
      await expectTaken(store.projects.update(a.user.id, first.id, { customDomain: domain }));
      await store.projects.update(b.user.id, rival.id, { customDomain: null });
      const reclaimed = await store.projects.update(a.user.id, first.id, { customDomain: domain });
      expect(reclaimed?.customDomainVerifiedAt).toBeNull();
    });

    test("a project holds several domains, each claimed and verified on its own; customDomain is the first", async () => {
      const store = await open();
      const [a, b] = [await owner(store), await owner(store)];
      const apex = newDomain().replace(/^www\./, "");
      const www = `www.${apex}`;
      const project = await a.claim(null);
      const squat = await b.claim(www);
      expect((await store.domains.add(project.id, { name: apex.toUpperCase() })).name).toBe(apex);
      await store.domains.add(project.id, { name: www });
      expect((await store.domains.list(project.id)).map((d) => [d.name, d.verifiedAt])).toEqual([
        [apex, null],
        [www, null],
      ]);
      expect((await current(store, project))?.customDomain).toBe(apex);
      // Twice on one project is a conflict; nothing is served before it is verified.
      const twice = await store.domains.add(project.id, { name: www }).catch((e: unknown) => e);
      expect(twice instanceof AppError && [twice.code, twice.field]).toEqual(["conflict", "name"]);
      const route = async () => (await store.projects.routes()).find((r) => r.id === project.id)?.domains;
      expect(await route()).toEqual([]);

      const verified = await store.domains.markVerified(project.id, www);
      expect(verified?.domain.verifiedAt).not.toBeNull();
      expect(verified?.displaced).toEqual([squat.id]);
      expect((await current(store, squat))?.customDomain).toBeNull();
      expect(await route()).toEqual([{ name: www, redirectTo: null, redirectStatus: null }]);
      // The apex is still unverified: its own check comes separately.
      expect((await current(store, project))?.customDomainVerifiedAt).toBeNull();
      expect(await store.domains.markVerified(project.id, "not-mine.example.com")).toBeNull();
      const taken = await store.domains.add(squat.id, { name: www }).catch((e: unknown) => e);
      expect(taken instanceof AppError && [taken.code, taken.field]).toEqual(["conflict", "name"]);

      // Saving customDomain replaces the first domain only; naming a later one moves it up in its place.
      const other = newDomain();
      expect(
        (await store.projects.update(a.user.id, project.id, { customDomain: other }))?.customDomain,
      ).toBe(other);
      expect((await store.domains.list(project.id)).map((d) => d.name)).toEqual([other, www]);
      const moved = await store.projects.update(a.user.id, project.id, { customDomain: www });
      expect([moved?.customDomain, moved?.customDomainVerifiedAt]).toEqual([
        www,
        verified?.domain.verifiedAt,
      ]);
      expect((await store.domains.list(project.id)).map((d) => d.name)).toEqual([www]);
      expect(await store.domains.remove(project.id, www)).toBe(true);
      expect(await store.domains.remove(project.id, www)).toBe(false);
      expect((await current(store, project))?.customDomain).toBeNull();
    });

    test("a domain redirects to a serving domain of its own project; removing the target stops it", async () => {
      const store = await open();
      const a = await owner(store);
      const apex = newDomain().replace(/^www\./, "");
      const www = `www.${apex}`;
      const project = await a.claim(null);
      const foreign = await a.claim(newDomain());
      await store.domains.add(project.id, { name: www });
      const redirect = await store.domains.add(project.id, { name: apex, redirectTo: www }, { trust: true });
      expect([redirect.redirectTo, redirect.redirectStatus, redirect.verifiedAt !== null]).toEqual([
        www,
        308,
        true,
      ]);
      expect((await store.projects.routes()).find((r) => r.id === project.id)?.domains).toEqual([
        { name: apex, redirectTo: www, redirectStatus: 308 },
      ]);
      const refused = async (promise: Promise<unknown>) => {
        const error = await promise.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error instanceof AppError && [error.code, error.field]).toEqual([
          "validation_failed",
          "redirectTo",
        ]);
      };
      // Not to itself, not to another project's domain, not to a domain that redirects, and no chains.
      await refused(store.domains.setRedirect(project.id, www, www));
      await refused(store.domains.setRedirect(project.id, www, foreign.customDomain));
      await refused(store.domains.add(project.id, { name: `x.${apex}`, redirectTo: apex }));
      await refused(store.domains.setRedirect(project.id, www, apex));
      expect(await store.domains.setRedirect(project.id, "missing.example.com", www)).toBeNull();
      expect((await store.domains.setRedirect(project.id, apex, www, 301))?.redirectStatus).toBe(301);
      expect(await store.domains.setRedirect(project.id, apex, null)).toMatchObject({
        redirectTo: null,
        redirectStatus: null,
      });
      await store.domains.setRedirect(project.id, apex, www, 307);
      expect(await store.domains.remove(project.id, www)).toBe(true);
      expect(await store.domains.list(project.id)).toMatchObject([
        { name: apex, redirectTo: null, redirectStatus: null },
      ]);
    });

    test("a project holds at most `max` domains: one more is a conflict, and concurrent adds stop at it", async () => {
      const store = await open();
      const a = await owner(store);
      const project = await a.claim(null);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => store.domains.add(project.id, { name: newDomain() }, { max: 4 })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
      for (const r of results)
        if (r.status === "rejected")
          expect(r.reason instanceof AppError && [r.reason.code, r.reason.status]).toEqual(["conflict", 409]);
      expect(await store.domains.list(project.id)).toHaveLength(4);
    });
  });
}

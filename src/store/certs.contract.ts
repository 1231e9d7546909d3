// The automatic-HTTPS repository's contract: the same cases for sqlite and Postgres (src/store/certs.ts).

import { describe, expect, test } from "bun:test";
import type { Store } from "./store.ts";

const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
const name = () => `h-${crypto.randomUUID().slice(0, 8)}.example.test`;

export function certificatesContract(label: string, open: () => Promise<Store>): void {
  describe(`certificates contract: ${label}`, () => {
    test("put, get, list, replace", async () => {
      const { certificates } = await open();
      const host = name();
      expect(await certificates.get(host)).toBeNull();
      const notAfter = "2030-01-02T03:04:05.000Z";
      await certificates.put({ name: host, certPem: "PEM1", keySealed: "K1", notAfter });
      const first = await certificates.get(host);
      expect(first).toMatchObject({ name: host, certPem: "PEM1", keySealed: "K1", notAfter });
      expect((await certificates.list()).find((c) => c.name === host)?.notAfter).toBe(notAfter);
      await Bun.sleep(5);
      await certificates.put({
        name: host,
        certPem: "PEM2",
        keySealed: "K2",
        notAfter: "2031-01-01T00:00:00.000Z",
      });
      const second = await certificates.get(host);
      expect(second?.certPem).toBe("PEM2");
      // Another process sees the change by updatedAt.
      expect(second?.updatedAt).not.toBe(first?.updatedAt);
    });

    test("removeExpired deletes only a certificate past its notAfter", async () => {
      const { certificates } = await open();
      const host = name();
      const notAfter = "2030-01-02T03:04:05.000Z";
      await certificates.put({ name: host, certPem: "PEM", keySealed: "K", notAfter });
      expect(await certificates.removeExpired(host, "2030-01-01T00:00:00.000Z")).toBe(false);
      expect(await certificates.get(host)).not.toBeNull();
      // Renewed by another process meanwhile: the later notAfter keeps it.
      await certificates.put({
        name: host,
        certPem: "PEM2",
        keySealed: "K2",
        notAfter: "2030-03-01T00:00:00.000Z",
      });
      expect(await certificates.removeExpired(host, "2030-02-01T00:00:00.000Z")).toBe(false);
      expect(await certificates.removeExpired(host, "2030-03-01T00:00:00.000Z")).toBe(true);
      expect(await certificates.get(host)).toBeNull();
      expect((await certificates.list()).some((c) => c.name === host)).toBe(false);
      expect(await certificates.removeExpired(host, "2031-01-01T00:00:00.000Z")).toBe(false);
    });

    test("a lease is exclusive until it expires or is released", async () => {
      const { certificates } = await open();
      const host = name();
      const now = iso(0);
      expect(await certificates.lease(host, "a", iso(60_000), now)).toBe(true);
      expect(await certificates.lease(host, "b", iso(60_000), now)).toBe(false);
      // The holder may extend its own lease.
      expect(await certificates.lease(host, "a", iso(120_000), now)).toBe(true);
      // Once expired, anyone may take it.
      expect(await certificates.lease(host, "b", iso(60_000), iso(130_000))).toBe(true);
      await certificates.release(host, "a");
      expect(await certificates.lease(host, "c", iso(60_000), now)).toBe(false);
      await certificates.release(host, "b");
      expect(await certificates.lease(host, "c", iso(60_000), now)).toBe(true);
    });

    test("concurrent leases: exactly one winner", async () => {
      const { certificates } = await open();
      const host = name();
      const now = iso(0);
      const results = await Promise.all(
        ["p1", "p2", "p3", "p4", "p5"].map((holder) => certificates.lease(host, holder, iso(60_000), now)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test("a failed holder backs off: the lease is kept until the given time", async () => {
      const { certificates } = await open();
      const host = name();
      expect(await certificates.lease(host, "a", iso(60_000), iso(0))).toBe(true);
      await certificates.release(host, "a", iso(600_000));
      expect(await certificates.lease(host, "b", iso(60_000), iso(300_000))).toBe(false);
      expect(await certificates.lease(host, "b", iso(60_000), iso(700_000))).toBe(true);
    });

    test("challenges answer until they expire or are removed", async () => {
      const { certificates } = await open();
      const token = crypto.randomUUID();
      expect(await certificates.challenge(token, iso(0))).toBeNull();
      await certificates.putChallenge(token, `${token}.thumb`, iso(60_000));
      expect(await certificates.challenge(token, iso(0))).toBe(`${token}.thumb`);
      expect(await certificates.challenge(token, iso(120_000))).toBeNull();
      await certificates.removeChallenge(token);
      expect(await certificates.challenge(token, iso(0))).toBeNull();
    });

    test("account key: first writer wins, per directory", async () => {
      const { certificates } = await open();
      const directory = `https://acme-${crypto.randomUUID()}.example.test/dir`;
      expect(await certificates.accountKey(directory)).toBeNull();
      expect(await certificates.initAccountKey(directory, "first")).toBe("first");
      expect(await certificates.initAccountKey(directory, "second")).toBe("first");
      expect(await certificates.accountKey(directory)).toBe("first");
      expect(await certificates.accountKey(`${directory}2`)).toBeNull();
    });
  });
}

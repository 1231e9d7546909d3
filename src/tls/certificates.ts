// Automatic HTTPS, step 3: the certificates a proxy process serves. Loaded from the store (shared by every proxy
// process), ordered under a per-name lease in the store (only one process orders a name at a time; the others
// wait for its result), renewed ACME_RENEW_DAYS ahead of expiry while the host policy still wants them, deleted
// from the store once expired and unwanted, and turned into TLS contexts for SNI.

import { hostname } from "node:os";
import { createSecureContext, type SecureContext } from "node:tls";
import type { HttpsConfig } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import type { Logger } from "../observe/log.ts";
import type { Certificates } from "../store/certs.ts";
import { type AcmeIssuer, describeCertificate } from "./acme.ts";
import { type HostPolicy, hostOfServerName } from "./hosts.ts";

export interface Served {
  name: string;
  serial: string;
  notAfter: string;
}

export interface CertManager {
  /** For the TLS server's SNICallback: the context for `servername`, ordered on demand; null refuses it. */
  contextFor(servername: string): Promise<SecureContext | null>;
  /** One pass: pick up certificates other processes stored, order missing eager ones, renew expiring ones. */
  sync(): Promise<void>;
  /** What this process serves for a certificate name (tests, start-up message). */
  served(name: string): Served | null;
  stop(): Promise<void>;
}

export interface CertManagerOptions {
  /** Between two sync passes (renewals and others' certificates; handshakes also load on a miss). */
  syncMs: number;
  /** How long one process may hold a name's order lease; a crashed holder's lease lapses after it. */
  leaseMs: number;
  /** After a failed order, nobody orders that name again before this (the CA limits failed validations). */
  backoffMs: number;
  /** How long a handshake waits for another process's order of the same name. */
  waitMs: number;
  /** Between looks at the store while another process orders. */
  pollMs: number;
}

interface Loaded extends Served {
  updatedAt: string;
  context: SecureContext;
}

export function createCertManager(
  deps: {
    https: HttpsConfig;
    certificates: Certificates;
    sealer: Sealer;
    issuer: AcmeIssuer;
    policy: HostPolicy;
    log: Logger;
  },
  overrides: Partial<CertManagerOptions> = {},
): CertManager {
  const { https, certificates, sealer, issuer, policy, log } = deps;
  const options: CertManagerOptions = {
    syncMs: 60_000,
    leaseMs: 5 * 60_000,
    backoffMs: 15 * 60_000,
    waitMs: 60_000,
    pollMs: 250,
    ...overrides,
  };
  const holder = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const loaded = new Map<string, Loaded>();
  /** The order (or wait) running per name, and whether it waits out another process's lease. */
  const inFlight = new Map<string, { promise: Promise<Loaded | null>; wait: boolean }>();
  const failedUntil = new Map<string, number>();
  const renewMs = https.renewDays * 86_400_000;
  let stopped = false;
  const due = (cert: Served) => Date.parse(cert.notAfter) - Date.now() < renewMs;

  /** The stored certificate of `name`, as a context (reused while the stored row is unchanged). */
  async function load(name: string): Promise<Loaded | null> {
    const stored = await certificates.get(name);
    if (stored === null) return loaded.get(name) ?? null;
    const current = loaded.get(name);
    if (current && current.updatedAt === stored.updatedAt) return current;
    const key = await sealer.open(stored.keySealed);
    const fresh: Loaded = {
      name,
      ...describeCertificate(stored.certPem),
      updatedAt: stored.updatedAt,
      context: createSecureContext({ cert: stored.certPem, key }),
    };
    loaded.set(name, fresh);
    return fresh;
  }

  /** Orders `name` under its lease; another process's lease means waiting for its result (if `wait`). */
  async function obtain(name: string, wait: boolean): Promise<Loaded | null> {
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      const current = await load(name);
      if (current && !due(current)) return current;
      if ((failedUntil.get(name) ?? 0) > Date.now()) return current;
      const now = Date.now();
      const leased = await certificates.lease(
        name,
        holder,
        new Date(now + options.leaseMs).toISOString(),
        new Date(now).toISOString(),
      );
      if (leased) return order(name, current);
      if (!wait || stopped || Date.now() > deadline) return current;
      await Bun.sleep(options.pollMs);
    }
  }

  async function order(name: string, current: Loaded | null): Promise<Loaded | null> {
    // Another process may have stored it between our look and our lease.
    const stored = await load(name);
    if (stored && !due(stored)) {
      await certificates.release(name, holder);
      return stored;
    }
    try {
      const issued = await issuer.order(name);
      await certificates.put({
        name,
        certPem: issued.certPem,
        keySealed: await sealer.seal(issued.keyPem),
        notAfter: issued.notAfter,
      });
      await certificates.release(name, holder);
      log.info("tls: certificate issued", { name, serial: issued.serial, notAfter: issued.notAfter });
      failedUntil.delete(name);
      return await load(name);
    } catch (error) {
      const until = Date.now() + options.backoffMs;
      failedUntil.set(name, until);
      // Keeping the lease until then keeps every other process off the name too.
      await certificates.release(name, holder, new Date(until).toISOString()).catch(() => {});
      log.error("tls: ordering a certificate failed", {
        name,
        retryAfter: new Date(until).toISOString(),
        error,
      });
      return current;
    }
  }

  /**
   * One order (or wait) per name at a time in this process. A handshake must not settle for the background
   * sync's attempt that gives up at once when another process holds the lease: it waits after that one.
   */
  function ensure(name: string, wait: boolean): Promise<Loaded | null> {
    const running = inFlight.get(name);
    if (running && (running.wait || !wait)) return running.promise;
    const promise = (
      running ? running.promise.then((got) => got ?? obtain(name, true)) : obtain(name, wait)
    ).finally(() => {
      if (inFlight.get(name) === entry) inFlight.delete(name);
    });
    const entry = { promise, wait };
    inFlight.set(name, entry);
    return promise;
  }

  async function contextFor(servername: string): Promise<SecureContext | null> {
    const host = hostOfServerName(servername);
    if (host === null) return null;
    const name = policy.certName(host);
    const hit = loaded.get(name);
    // An expiring certificate is still served; sync() renews it in the background.
    if (hit) return hit.context;
    if (!(await policy.isKnown(host))) return null;
    return (await ensure(name, true))?.context ?? null;
  }

  /**
   * Whether this process still wants `name`: an eager name, or a single host that the policy maps to its own
   * certificate and still serves (a deleted project's host, an old custom domain, a per-host certificate after a
   * switch to dns-01, or the wildcard after a switch to http-01 are not).
   */
  async function wanted(name: string, eager: Set<string>): Promise<boolean> {
    if (eager.has(name)) return true;
    if (name.startsWith("*.") || policy.certName(name) !== name) return false;
    return policy.isKnown(name);
  }

  let syncing: Promise<void> | null = null;
  async function syncOnce(): Promise<void> {
    const eager = new Set(await policy.eagerNames());
    const now = new Date().toISOString();
    for (const summary of await certificates.list()) {
      const mine = loaded.get(summary.name);
      if (!(await wanted(summary.name, eager))) {
        // No longer renewed, and no longer presented here: a handshake for it asks the policy again.
        loaded.delete(summary.name);
        // Deleted only once expired: until then another process (whose routes may be newer than ours) or a host
        // that comes back can still use it without a new order, and an expired certificate is of use to nobody.
        // The store deletes only if it is still expired, so a renewal stored meanwhile is kept.
        if (summary.notAfter <= now && (await certificates.removeExpired(summary.name, now)))
          log.info("tls: expired certificate of a host no longer served deleted", {
            name: summary.name,
            notAfter: summary.notAfter,
          });
        continue;
      }
      // Renewals and first orders of other processes: reload what changed in the store.
      if ((mine && mine.updatedAt !== summary.updatedAt) || (!mine && eager.has(summary.name)))
        await load(summary.name);
    }
    for (const name of eager) {
      const current = loaded.get(name);
      if (!current || due(current)) await ensure(name, false);
    }
    // Certificates ordered on demand (deployment and branch hosts) are renewed while their host is still served.
    for (const cert of [...loaded.values()]) {
      if (eager.has(cert.name) || !due(cert)) continue;
      if (await wanted(cert.name, eager)) await ensure(cert.name, false);
      else loaded.delete(cert.name);
    }
  }

  function sync(): Promise<void> {
    syncing ??= syncOnce().finally(() => {
      syncing = null;
    });
    return syncing;
  }

  const timer = setInterval(() => {
    sync().catch((error: unknown) => log.error("tls: certificate sync failed", { error }));
  }, options.syncMs);

  return {
    contextFor,
    sync,
    served(name) {
      const cert = loaded.get(name);
      return cert ? { name: cert.name, serial: cert.serial, notAfter: cert.notAfter } : null;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await syncing?.catch(() => {});
      await Promise.allSettled([...inFlight.values()].map((running) => running.promise));
    },
  };
}

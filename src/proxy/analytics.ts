// Web analytics, the proxy's side: every request a deployment answers is counted in memory, and every few seconds
// (ANALYTICS_FLUSH_SECONDS) what was counted goes on the bus (topic `analytics`, keyed by project) for a worker to
// store (src/worker/analytics.ts). No script in pages, no cookies.
//
// The hot path only adds to a counter keyed by the request's raw facts (deployment, minute, status, time-to-first-
// byte step, host, path, address, user agent, Referer). The flush turns them into what is kept: the user agent into
// bot/browser/OS, the Referer into another site's host, the address into a country (ANALYTICS_GEOIP_CSV) and,
// with the user agent, the project and the day's salt, into a visitor hash. The address lives only in this
// process's memory until that flush; it is never sent, stored or logged. The day's salt comes from the store
// (every proxy uses the same one) and is deleted after a day (src/store/analytics-salts.ts).

import {
  type AnalyticsBatch,
  type AnalyticsRecord,
  MAX_ANALYTICS_ROWS,
  MAX_ANALYTICS_TEXT,
} from "../../schema/analytics.ts";
import type { Bus } from "../bus/bus.ts";
import { normalizeAddress } from "../identity/client-address.ts";
import { type Agent, parseUserAgent } from "../model/user-agent.ts";
import type { Logger } from "../observe/log.ts";
import type { Store } from "../store/store.ts";
import type { GeoIp } from "./geoip.ts";
import { rawPathOf } from "./request-target.ts";

/** Which project and deployment answered a request, and the path it asked for (decoded) when the proxy knows it. */
export interface Answered {
  projectId: string;
  deploymentId: string;
  path?: string;
}

export interface AnalyticsRecorder {
  /**
   * Counts one answered request (synchronous and allocation-light: the proxy's hot path). `started` is when it
   * arrived, by performance.now(); the time to first byte runs from there to this call.
   */
  record(
    request: Request,
    answered: Answered,
    status: number,
    bytes: number,
    started: number,
    weight?: number,
    /** When the response was there (performance.now()), for a request counted later (a streamed answer). */
    answeredAt?: number,
  ): void;
  /**
   * Whether to count the request now arriving, and as how many: 1 while the proxy serves fewer than sampleAbove
   * requests a second; above that, N for one request in N (N from the last second's rate) and 0 for the others,
   * which then cost nothing more. Requests and bytes stay right on average; visitors become an estimate.
   */
  weight(): number;
  /** Sends what is counted now; resolves when it is on the bus (or failed and was logged). */
  flush(): Promise<void>;
  /** Flushes what is left; later requests are not counted. */
  stop(): Promise<void>;
}

export interface RecorderOptions {
  flushMs: number;
  /** Countries of addresses; null: country "" for everyone. */
  geo: GeoIp | null;
  /** X-Forwarded-For entries to trust from the right (TRUST_PROXY), as for rate limits. */
  trustProxyHops: number;
  /** The socket address of a request (Bun's requestIP); null when unknown. */
  peer: (request: Request) => string | null;
  /** The wall clock (tests); by default performance's, read once per request for both the minute and the time. */
  now?: () => number;
  /** Requests a second counted one by one (ANALYTICS_SAMPLE_ABOVE; 0 or absent: never sample). */
  sampleAbove?: number;
}

/** Who asked, as the request said it: until the flush only (it holds the address). */
interface Visit {
  host: string;
  address: string;
  userAgent: string;
  referer: string;
  id: number;
}

interface Pending {
  answered: Answered;
  minute: number;
  status: number;
  /** Time-to-first-byte step (µs) -> requests: a small histogram, so timing never splits a counter. */
  steps: Map<number, number>;
  path: string;
  visit: Visit;
  requests: number;
  bytes: number;
}

/** Distinct counters held before a flush is forced (a flood of distinct paths or addresses). */
const MAX_PENDING = 50_000;
/** Flushes waiting on a slow bus past which new requests are not counted (and the loss is logged). */
const MAX_FLUSHES_IN_FLIGHT = 4;
const WARN_EVERY_MS = 30_000;
const LOG_STEP = Math.log(1.05);

/** Time to first byte in µs, rounded to a 5% step: percentiles stay within 5% and counters fold. */
export function ttfbStep(us: number): number {
  if (!(us >= 1)) return 0;
  return Math.min(0xffff_ffff, Math.round(1.05 ** Math.round(Math.log(us) / LOG_STEP)));
}

/** The UTC day of a time in seconds, YYYY-MM-DD. */
export const dayOf = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 10);

/** Another site's host from a Referer header; "" for none, an unparseable one or the site itself. */
export function referrerHost(referer: string, host: string): string {
  if (referer === "") return "";
  try {
    const url = new URL(referer);
    if (url.protocol !== "http:" && url.protocol !== "https:") return "";
    const from = url.hostname.toLowerCase();
    return from === host.split(":")[0]?.toLowerCase() ? "" : from.slice(0, MAX_ANALYTICS_TEXT);
  } catch {
    return "";
  }
}

/** The first 16 hex digits of sha256 over the day's salt, the project, the address (IPv6 by /64) and the agent. */
export function visitorHash(salt: string, projectId: string, address: string, userAgent: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(`${salt}\n${projectId}\n${address === "" ? "" : normalizeAddress(address)}\n${userAgent}`);
  return hasher.digest("hex").slice(0, 16);
}

/** A path as kept: as the proxy resolved it (decoded, normalized), cut to MAX_ANALYTICS_TEXT characters. */
const keptPath = (path: string): string => path.slice(0, MAX_ANALYTICS_TEXT);

export function createAnalyticsRecorder(
  deps: { store: Pick<Store, "analyticsSalts">; bus: Pick<Bus, "publish">; log: Logger },
  options: RecorderOptions,
): AnalyticsRecorder {
  const now = options.now ?? Date.now;
  let pending = new Map<string, Pending>();
  // Who asked, by id, until the next flush; the last one is checked first (a browser's requests come in a row),
  // so most requests key their counter by a short id instead of the whole agent and Referer.
  let visits = new Map<string, Visit>();
  let lastVisit: Visit | null = null;
  // Never reused, not even across flushes: a counter made just after a forced flush keeps its own visitor.
  let visitIds = 0;
  let inFlight = 0;
  let flushing: Promise<void> = Promise.resolve();
  let stopped = false;
  let dropped = 0;
  let warnedAt = 0;
  const agents = new Map<string, Agent>();
  const salts = new Map<string, Promise<string>>();

  const warn = (message: string, fields: Record<string, unknown>) => {
    if (now() - warnedAt < WARN_EVERY_MS) return;
    warnedAt = now();
    deps.log.warn(message, fields);
  };

  function addressOf(request: Request): string {
    if (options.trustProxyHops > 0) {
      const forwarded = (request.headers.get("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const chosen = forwarded[Math.max(0, forwarded.length - options.trustProxyHops)];
      if (chosen) return chosen;
    }
    return options.peer(request) ?? "";
  }

  function agentOf(userAgent: string): Agent {
    let agent = agents.get(userAgent);
    if (!agent) {
      agent = parseUserAgent(userAgent);
      if (agents.size >= 4096) agents.clear();
      agents.set(userAgent, agent);
    }
    return agent;
  }

  /** The day's salt: the store's, made there by the first proxy that asks; days before yesterday are deleted. */
  function saltOf(day: string): Promise<string> {
    let salt = salts.get(day);
    if (!salt) {
      const yesterday = dayOf(Math.floor(now() / 1000) - 86_400);
      for (const known of salts.keys()) if (known < yesterday) salts.delete(known);
      const fresh = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
      salt = deps.store.analyticsSalts.salt(day, fresh, yesterday);
      salt.catch(() => salts.delete(day));
      salts.set(day, salt);
    }
    return salt;
  }

  async function records(counted: Map<string, Pending>): Promise<Map<string, AnalyticsRecord[]>> {
    const folded = new Map<string, { projectId: string; record: AnalyticsRecord }>();
    for (const p of counted.values()) {
      const salt = await saltOf(dayOf(p.minute));
      const { host, address, userAgent, referer } = p.visit;
      const agent = agentOf(userAgent);
      const base = {
        deploymentId: p.answered.deploymentId,
        minute: p.minute,
        path: keptPath(p.path),
        referrer: referrerHost(referer, host),
        country: address !== "" && options.geo ? options.geo.country(address) : "",
        browser: agent.browser,
        os: agent.os,
        status: p.status,
        bot: agent.bot,
        visitor: visitorHash(salt, p.answered.projectId, address, userAgent),
      };
      const prefix = [
        p.answered.projectId,
        base.deploymentId,
        base.minute,
        base.path,
        base.referrer,
        base.country,
        base.browser,
        base.os,
        base.status,
        base.bot,
        base.visitor,
      ].join("\u0000");
      // The bytes are shared among the steps by their requests; the last takes the remainder (sums stay exact).
      let bytesLeft = p.bytes;
      let stepsLeft = p.steps.size;
      for (const [ttfbUs, requests] of p.steps) {
        stepsLeft -= 1;
        const bytes = stepsLeft === 0 ? bytesLeft : Math.floor((p.bytes * requests) / p.requests);
        bytesLeft -= bytes;
        const key = `${prefix}\u0000${ttfbUs}`;
        const same = folded.get(key);
        if (same) {
          same.record.requests += requests;
          same.record.bytes += bytes;
        } else
          folded.set(key, { projectId: p.answered.projectId, record: { ...base, ttfbUs, requests, bytes } });
      }
    }
    const byProject = new Map<string, AnalyticsRecord[]>();
    for (const { projectId, record } of folded.values()) {
      const list = byProject.get(projectId) ?? [];
      list.push(record);
      byProject.set(projectId, list);
    }
    return byProject;
  }

  async function send(counted: Map<string, Pending>, lost: number): Promise<void> {
    if (lost > 0) warn("analytics: the bus is slow; requests were not counted", { requests: lost });
    try {
      for (const [projectId, list] of await records(counted)) {
        for (let i = 0; i < list.length; i += MAX_ANALYTICS_ROWS) {
          const batch: AnalyticsBatch = {
            type: "analytics",
            id: crypto.randomUUID(),
            projectId,
            records: list.slice(i, i + MAX_ANALYTICS_ROWS),
          };
          await deps.bus.publish("analytics", projectId, batch);
        }
      }
    } catch (error) {
      warn("analytics: could not send what was counted; it is lost", { counters: counted.size, error });
    }
  }

  function flush(): Promise<void> {
    if (pending.size === 0 && dropped === 0) return flushing;
    const counted = pending;
    const lost = dropped;
    pending = new Map();
    visits = new Map();
    lastVisit = null;
    dropped = 0;
    inFlight += 1;
    // One flush at a time: the salt of a new day is made once.
    flushing = flushing
      .then(() => send(counted, lost))
      .finally(() => {
        inFlight -= 1;
      });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushMs);
  // Sampling: requests seen this second, and 1 in `every` counted (with weight `every`) from the last second's rate.
  const sampleAbove = options.sampleAbove ?? 0;
  let seen = 0;
  let every = 1;
  let tick = 0;
  const rate =
    sampleAbove > 0
      ? setInterval(() => {
          every = Math.max(1, Math.ceil(seen / sampleAbove));
          seen = 0;
        }, 1000)
      : null;
  rate?.unref?.();
  timer.unref();

  return {
    weight() {
      if (sampleAbove === 0) return 1;
      seen += 1;
      if (every === 1) return 1;
      tick = (tick + 1) % every;
      return tick === 0 ? every : 0;
    },
    record(request, answered, status, bytes, started, weight = 1, answeredAt) {
      if (stopped || weight <= 0) return;
      const end = answeredAt ?? performance.now();
      const t = options.now ? options.now() : performance.timeOrigin + end;
      const minute = Math.floor(t / 60_000) * 60;
      const ttfbUs = ttfbStep((end - started) * 1000);
      const headers = request.headers;
      const host = headers.get("host") ?? "";
      const path = answered.path ?? rawPathOf(request.url);
      const address = addressOf(request);
      const userAgent = headers.get("user-agent") ?? "";
      const referer = headers.get("referer") ?? "";
      let visit = lastVisit;
      if (
        visit === null ||
        visit.address !== address ||
        visit.userAgent !== userAgent ||
        visit.referer !== referer ||
        visit.host !== host
      ) {
        const who = `${host}\n${address}\n${userAgent}\n${referer}`;
        visit = visits.get(who) ?? null;
        if (visit === null) {
          visit = { host, address, userAgent, referer, id: visitIds++ };
          visits.set(who, visit);
        }
        lastVisit = visit;
      }
      const key = `${answered.deploymentId}\n${minute}\n${status}\n${visit.id}\n${path}`;
      const known = pending.get(key);
      if (known) {
        known.requests += weight;
        known.bytes += bytes * weight;
        known.steps.set(ttfbUs, (known.steps.get(ttfbUs) ?? 0) + weight);
        return;
      }
      if (pending.size >= MAX_PENDING) {
        if (inFlight >= MAX_FLUSHES_IN_FLIGHT) {
          dropped += 1;
          return;
        }
        void flush();
      }
      pending.set(key, {
        answered,
        minute,
        status,
        steps: new Map([[ttfbUs, weight]]),
        path,
        visit,
        requests: weight,
        bytes: bytes * weight,
      });
    },
    flush,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (rate) clearInterval(rate);
      await flush();
    },
  };
}

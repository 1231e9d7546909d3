// Bench (issue 20, point 5): faults survived at scale. api x2, worker x2, proxy x2 as separate processes over
// Postgres, Kafka, ClickHouse and S3; (a) a random process SIGKILLed mid-build and started again, round after
// round; (b) Postgres, Kafka and ClickHouse each stopped during builds, with both proxies hit all along.
// Run: MINIVERCEL_SERVICES_ROOT=<checkout running scripts/services.sh> bun bench/faults.ts (see bench/README.md).

import { fixtureRepo } from "../src/testing/repos.ts";
import { type StoppableService as Outage, startService, stopService } from "../src/testing/services.ts";
import { rebuiltAs } from "../src/worker/interrupted.ts";
import {
  children,
  cleanUp,
  deps,
  killAndRestart,
  LOG_DIR,
  restoreServices,
  run,
  runsBuild,
  start,
  stderrLines,
  stoppedServices,
  token,
  urlOf,
} from "./faults-cluster.ts";

function count(name: string, fallback: number, least = 1): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < least)
    throw new Error(`${name} must be a whole number >= ${least}`);
  return value;
}
const ROUNDS = count("BENCH_FAULT_ROUNDS", 20, 0);
const OUTAGE_SECONDS = count("BENCH_OUTAGE_SECONDS", 30);
const OUTAGES = (process.env.BENCH_OUTAGES ?? "postgres,kafka,clickhouse")
  .split(",")
  .filter((s) => s !== "")
  .map((name) => {
    if (name !== "postgres" && name !== "kafka" && name !== "clickhouse")
      throw new Error(`BENCH_OUTAGES: '${name}' is not postgres, kafka or clickhouse`);
    return name as Outage;
  });
/** Numbered lines a kill round's build prints, one every 100 ms. */
const LINES = 40;
/** An outage's builds print a line every 250 ms for the outage and 30 s more: they run all through it. */
const OUTAGE_LINES = (OUTAGE_SECONDS + 30) * 4;
/** Lines each project's builds print, by project id. */
const linesOf = new Map<string, number>();
/** Longest wait for every deployment of a round (rebuilds included) to end. */
const SETTLE_MS = 240_000;
const NAMES = ["api1", "api2", "w1", "w2", "p1", "p2"];
const TERMINAL = new Set(["READY", "FAIL", "CANCELED"]);

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const api = children.get("api1")?.proc.exitCode === null ? "api1" : "api2";
  const res = await fetch(`${urlOf(api)}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A project whose build prints `tick 1` .. `tick <lines>`, one every `every` seconds, then writes its page. */
async function buildProject(name: string, lines: number, every: number): Promise<string> {
  const repo = fixtureRepo({
    "build.sh": `for i in $(seq 1 ${lines}); do echo tick $i; sleep ${every}; done\nmkdir -p dist && echo '<h1>${name}</h1>' > dist/index.html\n`,
    "package.json": JSON.stringify({ name: "ticks", scripts: { build: "sh build.sh" } }),
  });
  const project = await call("POST", "/api/projects", { name, gitUrl: repo.url, installCommand: "true" });
  linesOf.set(String(project.id), lines);
  return String(project.id);
}

// ---- checking a deployment ------------------------------------------------------------------------------

interface Verdict {
  status: string;
  reason: string | null;
  /** Numbered lines missing: a gap before the last one seen, or (READY) any of 1..LINES. */
  lost: number;
  /** Numbered lines stored more than once within this deployment (this attempt). */
  duplicated: number;
  /** Log seqs not 1..n without a gap, plus numbered lines out of order (what a reader would trip over). */
  seqGaps: number;
}

/**
 * Reads a deployment's stored log back through the log store. A rebuilt build is a new deployment with its own
 * log (see bench/README.md): each attempt is checked on its own. A READY one must hold all its ticks exactly once
 * and in order; one that ended otherwise (its worker lost) a gapless prefix tick 1..k, each once: the lines its
 * builder printed after the worker died were never sent, which is not loss.
 */
async function verdict(id: string): Promise<Verdict> {
  const d = await deps.store.deployments.find(id);
  const lines = await deps.logs.read(id, 0, 100_000);
  const ticks = lines.flatMap((l) => {
    const m = /^tick (\d+)$/.exec(l.text);
    return m ? [Number(m[1])] : [];
  });
  const distinct = new Set(ticks);
  const duplicated = ticks.length - distinct.size;
  const top = d?.status === "READY" ? (linesOf.get(d.projectId) ?? 0) : Math.max(0, ...ticks);
  let lost = 0;
  for (let i = 1; i <= top; i++) if (!distinct.has(i)) lost++;
  let outOfOrder = 0;
  for (let i = 1; i < ticks.length; i++) if ((ticks[i] ?? 0) <= (ticks[i - 1] ?? 0)) outOfOrder++;
  const seqGaps = lines.filter((l, i) => l.seq !== i + 1).length;
  return {
    status: d?.status ?? "MISSING",
    reason: d?.statusReason ?? null,
    lost,
    duplicated,
    seqGaps: seqGaps + outOfOrder,
  };
}

/** Polls the store until every id (and every rebuild they name) is terminal or the time is up. */
async function settle(ids: string[], ms = SETTLE_MS): Promise<string[]> {
  const all = new Set(ids);
  const end = Date.now() + ms;
  for (;;) {
    let open = 0;
    for (const id of all) {
      const d = await deps.store.deployments.find(id).catch(() => undefined);
      if (d === undefined || d === null || !TERMINAL.has(d.status)) open++;
      const next = rebuiltAs(d?.statusReason ?? null);
      if (next) all.add(next);
    }
    if (open === 0 || Date.now() > end) return [...all];
    await Bun.sleep(500);
  }
}

/** The log of a deployment that ended is complete once its count stops growing (lines may trail its status). */
async function logsSettled(ids: string[], ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() < end) {
    let total = 0;
    for (const id of ids) total += (await deps.logs.read(id, 0, 100_000).catch(() => [])).length;
    if (total !== last) {
      last = total;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 3_000) return;
    await Bun.sleep(500);
  }
}

async function ticksSeen(id: string): Promise<number> {
  const lines = await deps.logs.read(id, 0, 1_000).catch(() => []);
  return lines.filter((l) => l.text.startsWith("tick ")).length;
}

interface Tally {
  deployments: number;
  ready: number;
  failed: string[];
  nonTerminal: number;
  lost: number;
  duplicated: number;
  seqGaps: number;
}
const tally = (): Tally => ({
  deployments: 0,
  ready: 0,
  failed: [],
  nonTerminal: 0,
  lost: 0,
  duplicated: 0,
  seqGaps: 0,
});

async function judge(ids: string[], into: Tally): Promise<void> {
  await logsSettled(ids);
  for (const id of ids) {
    const v = await verdict(id);
    into.deployments++;
    if (v.status === "READY") into.ready++;
    else if (TERMINAL.has(v.status)) into.failed.push(`${v.status}: ${v.reason}`);
    else into.nonTerminal++;
    into.lost += v.lost;
    into.duplicated += v.duplicated;
    into.seqGaps += v.seqGaps;
    if (v.lost + v.duplicated + v.seqGaps > 0 || !TERMINAL.has(v.status))
      console.error(
        `  ${id}: ${v.status} lost ${v.lost} dup ${v.duplicated} seq gaps ${v.seqGaps} (${v.reason})`,
      );
  }
}

// ---- the READY site, hit while a backend is down ---------------------------------------------------------------

let siteHost = "";
let siteBody = "";

async function deploySite(): Promise<void> {
  siteBody = `<!doctype html><h1>steady ${run}</h1>\n`;
  const project = await call("POST", "/api/projects", { name: "Steady", subDomain: `steady-${run}` });
  siteHost = `steady-${run}.localhost`;
  const hash = new Bun.CryptoHasher("sha256").update(siteBody).digest("hex");
  await call("POST", "/api/files/missing", { hashes: [hash] });
  const put = await fetch(`${urlOf("api1")}/api/files/${hash}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: siteBody,
  });
  if (put.status !== 204) throw new Error(`PUT file: ${put.status}`);
  const created = await call("POST", `/api/projects/${project.id}/deployments`, {
    files: { "/index.html": { hash, size: Buffer.byteLength(siteBody) } },
    target: "production",
  });
  if ((created.deployment as { status?: string } | undefined)?.status !== "READY")
    throw new Error(`site: ${JSON.stringify(created)}`);
  for (const proxy of ["p1", "p2"]) {
    const end = Date.now() + 10_000;
    while ((await hit(proxy)) !== null && Date.now() < end) await Bun.sleep(100);
    const problem = await hit(proxy);
    if (problem) throw new Error(`${proxy} does not serve the site: ${problem}`);
  }
}

/** One request to the site through a proxy: null when it answered 200 with the page, else what went wrong. */
async function hit(proxy: string): Promise<string | null> {
  try {
    const res = await fetch(`${urlOf(proxy)}/`, {
      headers: { host: siteHost },
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return res.status === 200 && text === siteBody ? null : `HTTP ${res.status} ${text.slice(0, 80)}`;
  } catch (error) {
    return String(error);
  }
}

/** Hits both proxies back to back until `stop` resolves; counts answers and failures. */
async function hammer(stop: Promise<void>): Promise<{ requests: number; failures: string[] }> {
  let done = false;
  void stop.then(() => {
    done = true;
  });
  const failures: string[] = [];
  let requests = 0;
  await Promise.all(
    ["p1", "p2"].map(async (proxy) => {
      while (!done) {
        const problem = await hit(proxy);
        requests++;
        if (problem) failures.push(`${proxy}: ${problem}`);
        await Bun.sleep(10);
      }
    }),
  );
  return { requests, failures };
}

// ---- (a) kill rounds --------------------------------------------------------------------------------------------

async function killRounds(projects: string[]): Promise<Map<string, Tally & { rounds: number }>> {
  const byVictim = new Map<string, Tally & { rounds: number }>();
  for (let round = 1; round <= ROUNDS; round++) {
    const ids: string[] = [];
    for (const projectId of projects) ids.push(String((await call("POST", "/api/deploy", { projectId })).id));
    // Mid-build: a few numbered lines of one of them stored.
    const end = Date.now() + 120_000;
    while (Date.now() < end && (await Promise.all(ids.map(ticksSeen))).every((n) => n < 5))
      await Bun.sleep(200);
    const victim = NAMES[Math.floor(Math.random() * NAMES.length)] ?? "w1";
    const building = victim.startsWith("w") && runsBuild(victim);
    await killAndRestart(victim);
    const all = await settle(ids);
    const t = byVictim.get(victim) ?? { ...tally(), rounds: 0 };
    t.rounds++;
    await judge(all, t);
    byVictim.set(victim, t);
    console.log(
      `round ${round}: killed ${victim}${building ? " (running a build)" : ""}; ` +
        `${all.length} deployments, ${t.nonTerminal} non-terminal so far for ${victim}`,
    );
  }
  return byVictim;
}

// ---- (b) outages ------------------------------------------------------------------------------------------------

interface OutageResult extends Tally {
  requests: number;
  proxyFailures: string[];
  downMs: number;
}

async function outage(name: Outage, projects: string[]): Promise<OutageResult> {
  const ids: string[] = [];
  for (const projectId of projects) ids.push(String((await call("POST", "/api/deploy", { projectId })).id));
  const end = Date.now() + 120_000;
  while (Date.now() < end && (await Promise.all(ids.map(ticksSeen))).every((n) => n < 5))
    await Bun.sleep(200);
  let release = () => {};
  const stop = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hits = hammer(stop);
  let downMs = 0;
  try {
    stoppedServices.add(name);
    await stopService(name);
    const down = Date.now();
    await Bun.sleep(OUTAGE_SECONDS * 1000);
    startService(name);
    stoppedServices.delete(name);
    downMs = Date.now() - down;
  } finally {
    restoreServices();
    release();
  }
  const { requests, failures } = await hits;
  const all = await settle(ids);
  const t = tally();
  await judge(all, t);
  return { ...t, requests, proxyFailures: failures, downMs };
}

// ---- run --------------------------------------------------------------------------------------------------------

try {
  const boot = performance.now();
  await Promise.all(
    NAMES.map((name) =>
      start(name, name.startsWith("api") ? "api" : name.startsWith("w") ? "worker" : "proxy"),
    ),
  );
  console.log(`6 processes up in ${Math.round(performance.now() - boot)} ms; their stderr in ${LOG_DIR}`);
  await deploySite();
  const projects = [await buildProject("Ticks A", LINES, 0.1), await buildProject("Ticks B", LINES, 0.1)];
  const slow = [
    await buildProject("Slow A", OUTAGE_LINES, 0.25),
    await buildProject("Slow B", OUTAGE_LINES, 0.25),
  ];

  const rounds = await killRounds(projects);
  if (ROUNDS > 0) {
    console.log(`\n### (a) ${ROUNDS} rounds: 2 builds, one process SIGKILLed mid-build and started again\n`);
    console.log(
      "| killed | rounds | deployments (rebuilds included) | READY | FAIL/CANCELED | non-terminal | lost lines | duplicated lines | seq gaps |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const name of NAMES) {
      const t = rounds.get(name);
      if (!t) continue;
      console.log(
        `| ${name} | ${t.rounds} | ${t.deployments} | ${t.ready} | ${t.failed.length} | **${t.nonTerminal}** | **${t.lost}** | **${t.duplicated}** | ${t.seqGaps} |`,
      );
    }
    const reasons = new Map<string, number>();
    for (const t of rounds.values())
      for (const r of t.failed) {
        const key = r.replace(/[0-9a-f-]{36}/g, "<id>");
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    for (const [r, n] of reasons) console.log(`- ${n} x ${r}`);
  }

  const outages: [Outage, OutageResult][] = [];
  for (const name of OUTAGES) {
    const result = await outage(name, slow);
    outages.push([name, result]);
    console.log(
      `${name} down ${Math.round(result.downMs / 1000)} s: ${result.proxyFailures.length} proxy failures`,
    );
  }
  if (outages.length > 0) {
    console.log(
      `\n### (b) each backend stopped for ${OUTAGE_SECONDS} s during 2 builds (${OUTAGE_LINES} lines over ~${OUTAGE_LINES / 4} s)\n`,
    );
    console.log(
      "| stopped | down, s | deployments | READY | FAIL/CANCELED | non-terminal | lost lines | duplicated lines | proxy requests | proxy failures |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const [name, r] of outages)
      console.log(
        `| ${name} | ${Math.round(r.downMs / 1000)} | ${r.deployments} | ${r.ready} | ${r.failed.length} | **${r.nonTerminal}** | **${r.lost}** | **${r.duplicated}** | ${r.requests} | **${r.proxyFailures.length}** |`,
      );
    for (const [name, r] of outages) {
      for (const f of r.failed) console.log(`- ${name}: ${f}`);
      for (const f of new Set(r.proxyFailures)) console.log(`- ${name}: proxy ${f}`);
    }
  }
  const deadLetters = stderrLines.filter((l) => l.line.includes("dead letter")).length;
  console.log(`\n(${deadLetters} dead-letter lines in the processes' logs)`);
  if (process.env.BENCH_VERBOSE)
    for (const { name, line } of stderrLines) console.error(`[${name}] ${line.slice(0, 300)}`);
} finally {
  await cleanUp();
}

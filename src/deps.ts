// Dependencies: the one place that picks each port's implementation from the config.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Bus } from "./bus/bus.ts";
import { openBus } from "./bus/bus.ts";
import { createLive, type Live } from "./bus/live.ts";
import type { RuntimeLive, RuntimeLiveEvent } from "./bus/runtime-live.ts";
import type { Config } from "./config/config.ts";
import { buildEnv, createSealer, loadSecretKey, type Sealer } from "./deploy/env.ts";
import { type AccessTokens, createAccessTokens } from "./identity/access-tokens.ts";
import { type Authenticator, createAuthenticator } from "./identity/authenticate.ts";
import { type BuildTokens, createBuildTokens } from "./identity/build-tokens.ts";
import { createJwtVerifier } from "./identity/jwt.ts";
import { createNodeAuth, type NodeAuth } from "./identity/node-auth.ts";
import type { DeploymentTarget } from "./model/entities.ts";
import { createLogger, type Logger } from "./observe/log.ts";
import { createMetrics, type Metrics, watchSources } from "./observe/metrics.ts";
import { type Analytics, openAnalytics } from "./store/analytics.ts";
import { type Artifacts, type ArtifactsConfig, openArtifacts } from "./store/artifacts.ts";
import { checkDataDir } from "./store/data-format.ts";
import { type Logs, type LogsConfig, openLogs } from "./store/logs.ts";
import { openRuntimeLogs, type RuntimeLogs } from "./store/runtime-logs.ts";
import { openStore, type Store } from "./store/store.ts";
import { type Collector, createCollector } from "./worker/gc.ts";
import type { Runner } from "./worker/runner.ts";
import { localRunner } from "./worker/runner-local.ts";

export interface Deps {
  config: Config;
  store: Store;
  logs: Logs;
  /** What functions print, per line (src/runtime/log-sink.ts writes it). */
  runtimeLogs: RuntimeLogs;
  /** Web analytics: the proxies' records as the workers store them (src/store/analytics.ts). */
  analytics: Analytics;
  artifacts: Artifacts;
  /** How to open the artifact store again (a local builder writes its files there itself). */
  artifactsConfig: ArtifactsConfig;
  bus: Bus;
  /** Log lines and status changes for watchers in this process (SSE). */
  live: Live;
  /** Runtime log lines for watchers in this process (fed from the bus: src/bus/runtime-live.ts). */
  runtimeLive: RuntimeLive;
  sealer: Sealer;
  /** A project's environment variables for one target, decrypted: what its builds and functions of it see. */
  projectEnv: (projectId: string, target: DeploymentTarget) => Promise<Record<string, string>>;
  /** Per-deployment credentials for remote builders (the build API). */
  buildTokens: BuildTokens;
  /** Signs and checks calls to functions nodes and their announcements (src/runtime/node.ts). */
  nodeAuth: NodeAuth;
  /** Signs and checks deployment protection's hand-offs, access cookies and form tokens (src/proxy/protection.ts). */
  accessTokens: AccessTokens;
  /** Where this worker's builds run: a local sandboxed subprocess, or ECS tasks. */
  runner: Runner;
  auth: Authenticator;
  /** True when this process is necessarily the only worker (the embedded store cannot be shared). */
  exclusive: boolean;
  /** Garbage collection of artifacts and preview expiry: periodic on workers, and after a project is deleted. */
  gc: Collector;
  /** This process's Prometheus registry and series (src/observe/metrics.ts). */
  metrics: Metrics;
  /** The server's structured logger (LOG_FORMAT, LOG_LEVEL). */
  log: Logger;
  close(): Promise<void>;
}

/** ECS when configured (the SDK is loaded only then), else the local sandboxed runner. */
async function openRunner(config: Config, buildTokens: BuildTokens, log: Logger): Promise<Runner> {
  if (!config.ecs) return localRunner(log);
  const { ecsRunner } = await import("./worker/runner-ecs.ts");
  return ecsRunner({
    ecs: config.ecs,
    apiUrl: config.ecs.apiUrl,
    buildTokens,
    log,
    ...(config.ecs.endpoint !== null && { endpoint: config.ecs.endpoint }),
  });
}

export async function openDeps(config: Config): Promise<Deps> {
  const log = createLogger({ format: config.log.format, level: config.log.level });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Before anything reads or writes the directory: one a newer minivercel changed is refused.
  checkDataDir(config.dataDir);
  const store = await openStore(config.store);
  await store.migrate();
  const logsConfig: LogsConfig = config.clickhouse
    ? { kind: "clickhouse", clickhouse: config.clickhouse }
    : { kind: "sqlite", path: join(config.dataDir, "logs.db") };
  const logs = await openLogs(logsConfig, log);
  const runtimeLogs = await openRuntimeLogs(logsConfig, {
    retentionDays: config.functions.logRetentionDays,
    log,
  });
  const analytics = await openAnalytics(logsConfig, { retentionDays: config.analytics.retentionDays, log });
  // With S3, each process keeps a bounded local copy of the blobs it served (the proxies' cache).
  const artifactsConfig: ArtifactsConfig = config.s3
    ? { kind: "s3", s3: config.s3, cacheDir: join(config.dataDir, "blob-cache") }
    : { kind: "disk", dir: join(config.dataDir, "artifacts") };
  const artifacts = await openArtifacts(artifactsConfig);
  const bus = await openBus(config.kafka ? { kind: "kafka", kafka: config.kafka } : { kind: "memory" }, log);
  const secretKey = loadSecretKey(config.secretKey, config.dataDir);
  const buildTokens = createBuildTokens(secretKey);
  const runner = await openRunner(config, buildTokens, log);
  const metrics = createMetrics();
  watchSources(metrics, {
    countWithStatus: (status) => store.deployments.countWithStatus(status),
    lag: () => bus.lag(),
    cacheStats: artifacts.cacheStats?.bind(artifacts),
  });
  const jwt = config.jwtIssuers.length > 0 ? createJwtVerifier(config.jwtIssuers) : null;
  const gc = createCollector(
    { store, artifacts, runtimeLogs, log },
    {
      graceMs: config.gc.graceMinutes * 60_000,
      previewRetentionMs:
        config.gc.previewRetentionDays === 0 ? null : config.gc.previewRetentionDays * 86_400_000,
    },
  );
  const sealer = createSealer(secretKey);
  return {
    config,
    store,
    logs,
    runtimeLogs,
    analytics,
    artifacts,
    artifactsConfig,
    bus,
    live: createLive(log),
    runtimeLive: createLive<RuntimeLiveEvent>(log),
    sealer,
    projectEnv: (projectId, target) => buildEnv(store, sealer, projectId, target),
    buildTokens,
    nodeAuth: createNodeAuth(secretKey),
    accessTokens: createAccessTokens(secretKey),
    runner,
    auth: createAuthenticator(store, jwt),
    exclusive: config.store.kind === "sqlite",
    gc,
    metrics,
    log,
    async close() {
      // A collection started by a project deletion finishes before its store closes.
      await gc.idle();
      await bus.close();
      await logs.close();
      await runtimeLogs.close();
      await analytics.close();
      await store.close();
    },
  };
}

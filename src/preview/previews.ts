// Preview images of deployments, as Vercel shows on a project's production card: when a deployment becomes READY,
// a worker captures its front page (capture.ts) and stores the PNG content-addressed in the artifact store, named by
// a small manifest `preview-<deployment id>`, so every artifact backend holds it and garbage collection keeps it
// exactly as long as the deployment (gc.ts reads a manifest's owner from the uuid its id ends with).
//
// A capture never affects its deployment: it runs after READY, one at a time, and a failure is one log line.
// A protected deployment is captured too, as Vercel shows previews of protected deployments to the team: the worker
// signs an access cookie of a kind of its own (good for that one host, for the capture's time), which only the
// capture's relay sends; the browser never holds it, and the image is shown only to those who see the project.

import type { Config } from "../config/config.ts";
import type { AccessTokens } from "../identity/access-tokens.ts";
import type { Deployment, Project } from "../model/entities.ts";
import { isProtected } from "../model/protection.ts";
import { deploymentUrl, productionUrl } from "../model/urls.ts";
import type { Logger } from "../observe/log.ts";
import { ACCESS_COOKIE } from "../proxy/protection.ts";
import type { Artifacts } from "../store/artifacts.ts";
import type { Store } from "../store/store.ts";
import { captureScreenshot } from "./capture.ts";

const PREVIEW_PATH = "/preview.png";
/** Captures waiting at most; more are dropped (a burst of deploys keeps the newest ones' previews coming). */
const MAX_WAITING = 20;

/** The manifest id naming a deployment's preview image. */
export const previewManifestId = (deploymentId: string): string => `preview-${deploymentId}`;

/** The stored preview image of a deployment: its blob's hash, or null while there is none. */
export async function previewOf(
  artifacts: Pick<Artifacts, "getManifest">,
  deploymentId: string,
): Promise<{ hash: string; size: number; createdAt: string } | null> {
  const manifest = await artifacts.getManifest(previewManifestId(deploymentId));
  const file = manifest?.files[PREVIEW_PATH];
  return manifest && file ? { hash: file.hash, size: file.size, createdAt: manifest.createdAt } : null;
}

export interface PreviewDeps {
  config: Pick<Config, "preview" | "build" | "sitesDomain" | "proxyPort" | "https">;
  store: Pick<Store, "projects" | "deployments">;
  artifacts: Pick<Artifacts, "putBlob" | "putManifest">;
  /** Signs the capture's access to a protected deployment (the proxies verify it with the same secret). */
  accessTokens: AccessTokens;
  log: Logger;
  /** Where this process's own proxy listens (http://127.0.0.1:port), when it runs one; else the public URL is used. */
  localProxy?: () => string | null;
}

export interface Previewer {
  /** Queues a capture of a deployment that just became READY; returns at once. */
  capture(deployment: Deployment): void;
  /** Waits for the capture under way (aborted) and drops the queue. */
  stop(): Promise<void>;
  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void>;
}

export function startPreviewer(deps: PreviewDeps): Previewer {
  const waiting: Deployment[] = [];
  const stopping = new AbortController();
  let running: Promise<void> | null = null;
  const pump = (): void => {
    if (running !== null || stopping.signal.aborted) return;
    const next = waiting.shift();
    if (!next) return;
    running = capturePreview(deps, next, stopping.signal)
      .catch((error) =>
        deps.log.warn("preview: capture failed", { deploymentId: next.id, error: String(error) }),
      )
      .finally(() => {
        running = null;
        pump();
      });
  };
  return {
    capture(deployment) {
      if (deps.config.preview.browser === null || stopping.signal.aborted) return;
      if (waiting.length >= MAX_WAITING) waiting.shift();
      waiting.push(deployment);
      pump();
    },
    async stop() {
      stopping.abort();
      waiting.length = 0;
      await running;
    },
    async idle() {
      while (running !== null || waiting.length > 0) await (running ?? Bun.sleep(10));
    },
  };
}

/**
 * Which address to capture: production's while the deployment is production (its public address), else the
 * deployment's own; with the access cookie the capture's relay sends when that address is protected.
 */
export function captureTarget(
  deps: Pick<PreviewDeps, "config" | "accessTokens">,
  project: Project,
  deployment: Deployment,
): { url: string; cookie: string | null } {
  const production = project.productionDeploymentId === deployment.id;
  const url = production
    ? productionUrl(project, deps.config)
    : deploymentUrl(project, deployment.id, deps.config);
  if (!isProtected(project.protection, production ? "production" : "deployment"))
    return { url, cookie: null };
  const token = deps.accessTokens.sign({
    type: "access",
    host: new URL(url).hostname,
    project: project.id,
    grant: { kind: "preview", deploymentId: deployment.id },
    exp: Math.floor(Date.now() / 1000) + deps.config.preview.timeoutSeconds + 60,
  });
  return { url, cookie: `${ACCESS_COOKIE}=${token}` };
}

/** Captures one deployment's front page and stores it; a reason in the log when it cannot. */
export async function capturePreview(
  deps: PreviewDeps,
  deployment: Deployment,
  signal: AbortSignal,
): Promise<void> {
  const browser = deps.config.preview.browser;
  if (browser === null) return;
  const project = await deps.store.projects.find(deployment.projectId);
  if (!project) return;
  const { url: publicUrl, cookie } = captureTarget(deps, project, deployment);
  const hostname = new URL(publicUrl).hostname;
  const local = deps.localProxy?.() ?? null;
  const upstream = {
    ...(local
      ? { origin: local, host: hostname }
      : { origin: new URL(publicUrl).origin, host: new URL(publicUrl).host }),
    ...(cookie !== null && { headers: { cookie } }),
  };
  const started = performance.now();
  const shot = await captureScreenshot({
    browser,
    url: `http://${hostname}/`,
    upstream,
    sandbox: {
      mode: deps.config.build.sandbox,
      ...(deps.config.build.sandboxPath !== null && { helperPath: deps.config.build.sandboxPath }),
    },
    timeoutMs: deps.config.preview.timeoutSeconds * 1000,
    memoryBytes: deps.config.preview.memoryMb * 1024 * 1024,
    signal,
  });
  if (!shot.ok) {
    deps.log.warn("preview: no image", { deploymentId: deployment.id, reason: shot.problem });
    return;
  }
  const hash = new Bun.CryptoHasher("sha256").update(shot.png).digest("hex");
  await deps.artifacts.putBlob(hash, shot.png);
  await deps.artifacts.putManifest({
    version: 1,
    deploymentId: previewManifestId(deployment.id),
    createdAt: new Date().toISOString(),
    files: { [PREVIEW_PATH]: { hash, size: shot.png.byteLength, type: "image/png" } },
  });
  deps.log.info("preview: captured", {
    deploymentId: deployment.id,
    bytes: shot.png.byteLength,
    ms: Math.round(performance.now() - started),
  });
}

// Proxy: deployments in memory. A deployment's manifest, `_redirects` and `_headers` are read from the
// artifact store once and kept in a bounded LRU; manifests are immutable, so entries never go stale.

import type { Logger } from "../observe/log.ts";
import type { Artifacts, Manifest, ManifestFile } from "../store/artifacts.ts";
import { parseBuildOutputConfig } from "./build-output/config.ts";
import { createBuildOutputSite, viewOfManifest } from "./build-output/site.ts";
import { parseHeaders } from "./headers-file.ts";
import { lru } from "./lru.ts";
import { parseRedirects } from "./redirects.ts";
import { createSite, type Site } from "./resolve.ts";
import { MAX_CONFIG_BYTES } from "./site-config.ts";

export interface Sites {
  /** The deployment's site, or null when its manifest is not in the store. */
  get(deploymentId: string): Site | null | Promise<Site | null>;
}

export function createSites(
  artifacts: Pick<Artifacts, "getManifest" | "getBlob">,
  maxSites: number,
  log: Logger,
): Sites {
  const cache = lru<string, Site>(maxSites);
  const pending = new Map<string, Promise<Site | null>>();

  async function configText(file: ManifestFile | undefined, name: string, id: string): Promise<string> {
    if (!file) return "";
    if (file.size > MAX_CONFIG_BYTES) {
      log.warn("config file too large, ignored", {
        deploymentId: id,
        file: name,
        bytes: file.size,
        maxBytes: MAX_CONFIG_BYTES,
      });
      return "";
    }
    const blob = await artifacts.getBlob(file.hash);
    if (blob === null) throw new Error(`blob of ${name} is missing`);
    return blob.text();
  }

  /** The deployment's router; its config was checked at deploy time, so a problem now is an older deployment's. */
  async function buildOutputOf(
    manifest: Manifest,
    configHash: string,
  ): Promise<NonNullable<Site["buildOutput"]>> {
    const blob = await artifacts.getBlob(configHash);
    if (blob === null) throw new Error("blob of config.json is missing");
    const { config, problems } = parseBuildOutputConfig(await blob.text());
    const errors = problems.filter((p) => p.severity === "error").map((p) => p.message);
    if (config === null || errors.length > 0) {
      const broken = errors.join("; ") || "config.json cannot be read";
      log.warn("deployment config.json refused", { deploymentId: manifest.deploymentId, problems: broken });
      return { router: null, manifest, broken };
    }
    return {
      router: createBuildOutputSite(manifest.deploymentId, config, viewOfManifest(manifest)),
      manifest,
      broken: null,
    };
  }

  async function load(deploymentId: string): Promise<Site | null> {
    const manifest = await artifacts.getManifest(deploymentId);
    if (manifest === null) return null;
    const [redirects, headers] = await Promise.all([
      configText(manifest.files["/_redirects"], "_redirects", deploymentId),
      configText(manifest.files["/_headers"], "_headers", deploymentId),
    ]);
    const site = createSite(manifest, parseRedirects(redirects), parseHeaders(headers));
    if (manifest.buildOutput)
      site.buildOutput = await buildOutputOf(manifest, manifest.buildOutput.config.hash);
    cache.set(deploymentId, site);
    return site;
  }

  return {
    get(deploymentId) {
      const cached = cache.get(deploymentId);
      if (cached) return cached;
      let loading = pending.get(deploymentId);
      if (!loading) {
        loading = load(deploymentId).finally(() => pending.delete(deploymentId));
        pending.set(deploymentId, loading);
      }
      return loading;
    },
  };
}

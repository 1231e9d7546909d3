// Preview images in the dashboard: what the production card and the deployment page show (the image, or why not).

import type { PreviewView } from "../../views/components/preview-image.tsx";
import type { Config } from "../config/config.ts";
import type { Deployment } from "../model/entities.ts";
import { previewOf } from "../preview/previews.ts";
import type { Artifacts } from "../store/artifacts.ts";

export async function previewView(
  config: Pick<Config, "preview">,
  artifacts: Pick<Artifacts, "getManifest">,
  deployment: Deployment,
): Promise<PreviewView> {
  const stored = deployment.status === "READY" ? await previewOf(artifacts, deployment.id) : null;
  // The hash in the address: a new image is a new URL, so the browser may keep one for long.
  if (stored)
    return { src: `/deployments/${deployment.id}/preview.png?v=${stored.hash.slice(0, 16)}`, note: "" };
  return { src: null, note: missingNote(config, deployment) };
}

function missingNote(config: Pick<Config, "preview">, d: Deployment): string {
  if (d.status !== "READY") return "A preview image is taken once the deployment is ready";
  if (config.preview.browser === null)
    return "No preview images: the server has no browser (SCREENSHOT_BROWSER)";
  return "No preview image yet";
}

// Framework presets for a new project: the frameworks the builder detects, with their usual build
// settings, offered before the first build (no host-side clone: the repository is only read in the sandbox).

import { KNOWN_FRAMEWORKS } from "../../builder/detect.ts";
import type { FormValues } from "../../views/components/field.tsx";
import type { FrameworkPreset } from "../../views/components/framework-field.tsx";
import type { DetectedSettings } from "../git/detect-remote.ts";

const NOTES: Record<string, string> = {
  nextjs: "Only a static export can be served: set output: 'export' in next.config (it writes out/).",
  sveltekit: "Needs @sveltejs/adapter-static, which writes the site to build/.",
};

export const FRAMEWORK_PRESETS: FrameworkPreset[] = [
  ...KNOWN_FRAMEWORKS.map((framework) => ({
    id: framework.id,
    name: framework.id === "nextjs" ? "Next.js (static export)" : framework.name,
    buildCommand: "npm run build",
    outputDirectory: framework.outputDirectory,
    note: NOTES[framework.id] ?? null,
  })),
  {
    id: "static",
    name: "Plain static files",
    buildCommand: "",
    outputDirectory: "",
    note:
      "Served as they are when the repository has no build script: its root, or public/ when the root has no " +
      "index.html.",
  },
];

/** The build fields the user left empty, filled from the chosen preset (what app.js does in the browser). */
export function withPreset(values: FormValues): FormValues {
  const preset = FRAMEWORK_PRESETS.find((p) => p.id === values.framework);
  if (!preset) return values;
  const out = { ...values };
  if (!out.buildCommand?.trim() && preset.buildCommand) out.buildCommand = preset.buildCommand;
  if (!out.outputDirectory?.trim() && preset.outputDirectory) out.outputDirectory = preset.outputDirectory;
  return out;
}

/** "https://github.com/you/my-site.git" or "git@host:you/my-site" -> "my-site": a project name to start from. */
export function nameFromGitUrl(url: string): string {
  const last = url
    .trim()
    .replace(/[/]+$/, "")
    .replace(/\.git$/i, "")
    .split(/[/:]/)
    .pop();
  return (last ?? "").slice(0, 100);
}

/**
 * The form's values from what was detected in the repository: its framework as the preset, and the settings it
 * implies. The start command only when it certainly runs (no build output to serve): a project's start command
 * makes every deployment an app server.
 */
export function detectedValues(detected: DetectedSettings): FormValues {
  const values: FormValues = {};
  // A framework's preset; plain static files need none (the form's default detects them just the same).
  if (detected.framework !== "static" && FRAMEWORK_PRESETS.some((p) => p.id === detected.framework))
    values.framework = detected.framework;
  if (detected.installCommand) values.installCommand = detected.installCommand;
  if (detected.buildCommand) values.buildCommand = detected.buildCommand;
  if (detected.outputDirectory) values.outputDirectory = detected.outputDirectory;
  if (detected.startCommand && detected.startAlways) values.startCommand = detected.startCommand;
  return values;
}

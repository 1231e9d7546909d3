// Project form values -> the settings the domain functions take (the same input the API's JSON becomes).

import type { FormValues } from "../../views/components/field.tsx";
import type { ProjectSettings } from "../model/entities.ts";

export const SETTING_LABELS = {
  name: "Project name",
  gitUrl: "Git repository URL",
  productionBranch: "Production branch",
  rootDirectory: "Root directory",
  installCommand: "Install command",
  buildCommand: "Build command",
  outputDirectory: "Output directory",
  buildTimeoutSeconds: "Build timeout",
  startCommand: "Start command",
  idleTimeoutMinutes: "Idle timeout",
  maxInstances: "Maximum instances",
  subDomain: "Subdomain",
  customDomain: "Custom domain",
} as const;

export type SettingField = keyof typeof SETTING_LABELS;

/** The settings page's sections and the fields each one saves. */
export const SECTION_FIELDS = {
  general: ["name", "gitUrl", "productionBranch"],
  build: ["rootDirectory", "installCommand", "buildCommand", "outputDirectory", "buildTimeoutSeconds"],
  domains: ["subDomain", "customDomain"],
  server: ["startCommand", "idleTimeoutMinutes", "maxInstances"],
} as const satisfies Record<string, readonly SettingField[]>;

/** Not a whole number -> NaN, which the domain rules reject with their own message. */
const seconds = (value: string): number => (/^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN);

/**
 * `fields` present in `values` -> settings. On create an empty field means "the default" (left out);
 * on update it clears an optional setting (the domain rules turn "" into null, or reject it where required).
 */
export function toSettings(
  values: FormValues,
  fields: readonly SettingField[],
  mode: "create" | "update",
): Partial<ProjectSettings> {
  const out: Partial<ProjectSettings> = {};
  for (const field of fields) {
    const value = values[field];
    if (value === undefined) continue;
    if (mode === "create" && value.trim() === "" && field !== "name") continue;
    if (field === "buildTimeoutSeconds" || field === "idleTimeoutMinutes" || field === "maxInstances")
      out[field] = value.trim() === "" ? null : seconds(value);
    else out[field] = value;
  }
  return out;
}

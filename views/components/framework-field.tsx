// The framework preset of a new project: detection when the build runs, or a preset's build settings.
/** @jsxImportSource preact */

import type { FormValues } from "./field.tsx";

export interface FrameworkPreset {
  id: string;
  name: string;
  buildCommand: string;
  outputDirectory: string;
  /** What the framework needs to be served as a static site, if anything. */
  note: string | null;
}

const DETECT_NOTE =
  "Detected when the build runs, from package.json and the lockfile (install with npm, pnpm, yarn or bun); " +
  "set any of the build settings below to override it.";

/**
 * A select whose options carry their preset's settings: app.js fills the build fields when one is picked;
 * without JavaScript the server fills the ones left empty (src/dashboard/presets.ts).
 */
export function FrameworkField(props: { presets: FrameworkPreset[]; values: FormValues }) {
  const { presets, values } = props;
  const chosen = presets.find((p) => p.id === values.framework) ?? null;
  return (
    <div class="field">
      <label for="f-framework">Framework preset</label>
      <select
        id="f-framework"
        name="framework"
        data-presets="build"
        aria-describedby="f-framework-hint"
        data-detect-note={DETECT_NOTE}
      >
        <option value="" selected={!chosen}>
          Detect automatically
        </option>
        {presets.map((preset) => (
          <option
            key={preset.id}
            value={preset.id}
            selected={chosen?.id === preset.id}
            data-build={preset.buildCommand}
            data-output={preset.outputDirectory}
            data-note={preset.note ?? ""}
          >
            {preset.name}
          </option>
        ))}
      </select>
      <p class="hint" id="f-framework-hint">
        {chosen?.note ?? DETECT_NOTE}
      </p>
    </div>
  );
}

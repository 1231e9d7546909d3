// What reading the repository found before the first build: the framework and the settings it implies (already
// filled into the form below, to accept or edit), or why it could not be read.
/** @jsxImportSource preact */

import type { DetectedSettings } from "../../src/git/detect-remote.ts";

export type DetectionView = { branch: string } & (
  | { ok: true; settings: DetectedSettings }
  | { ok: false; problem: string }
);

export function DetectedCard({ detection }: { detection: DetectionView }) {
  if (!detection.ok)
    return (
      <p class="notice danger small" id="detect-problem" role="alert">
        Settings could not be detected: {detection.problem}. Enter them below, or leave them empty to detect
        them when the build runs.
      </p>
    );
  const { settings, branch } = detection;
  const rows: [string, string | null][] = [
    ["Install command", settings.installCommand],
    ["Build command", settings.buildCommand],
    ["Output directory", settings.outputDirectory === "" ? "(the project root)" : settings.outputDirectory],
    [
      settings.startAlways ? "Start command" : "Start command (if the build leaves no output)",
      settings.startCommand,
    ],
  ];
  return (
    <section class="detected" id="detected" aria-labelledby="detected-title">
      <h3 id="detected-title">
        Detected <span id="detected-framework">{settings.frameworkName}</span>
        <span class="muted small">
          {" "}
          on <span class="mono">{branch}</span> at <span class="mono">{settings.commitSha.slice(0, 7)}</span>
        </span>
      </h3>
      <dl class="detected-settings">
        {rows
          .filter((row): row is [string, string] => row[1] !== null)
          .map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd class="mono">{value}</dd>
            </div>
          ))}
      </dl>
      {settings.notes.length > 0 && (
        <details class="small">
          <summary>How it was detected</summary>
          <ul>
            {settings.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </details>
      )}
      <p class="hint">Filled in below: keep them, or change any before the first deploy.</p>
    </section>
  );
}

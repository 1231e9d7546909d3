// Build Output API v3: `.vercel/output/config.json` (https://vercel.com/docs/build-output-api/configuration),
// parsed once per deployment. Deploys refuse what this file cannot honour, naming it (see `problems`).
// (Seed of the interface: the routing helper replaces this with the full schema and router.)

export interface BuildOutputConfig {
  version: 3;
  routes: unknown[];
}

export interface ConfigProblem {
  message: string;
  severity: "error" | "warning";
}

/** Parses config.json's text; `problems` lists what is refused (error) or ignored (warning), for the build log. */
export function parseBuildOutputConfig(text: string): {
  config: BuildOutputConfig | null;
  problems: ConfigProblem[];
} {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      config: null,
      problems: [{ message: `config.json is not valid JSON: ${String(error)}`, severity: "error" }],
    };
  }
  if (typeof value !== "object" || value === null || (value as { version?: unknown }).version !== 3)
    return { config: null, problems: [{ message: 'config.json must have "version": 3', severity: "error" }] };
  const routes = (value as { routes?: unknown }).routes;
  return { config: { version: 3, routes: Array.isArray(routes) ? routes : [] }, problems: [] };
}

// Deploy-time check of a site's `_redirects` and `_headers` (the proxy reads them per deployment, sites.ts). Lines
// the proxy would have to skip for a reason the author must fix (a header value HTTP cannot carry, a cookie for
// other hosts, a redirect to another site written as a path) refuse the deploy, naming the file and the line;
// other skipped lines are warnings for the build log. Only the root files are read: deeper ones are never served.

import { parseHeaders } from "./headers-file.ts";
import { parseRedirects } from "./redirects.ts";

/** Config files bigger than this are ignored (Netlify's own limits are far lower in practice). */
export const MAX_CONFIG_BYTES = 512 * 1024;

export const CONFIG_FILES = ["_redirects", "_headers"] as const;
export type ConfigFile = (typeof CONFIG_FILES)[number];

const MAX_WARNINGS = 20;

export interface SiteConfigCheck {
  errors: string[];
  warnings: string[];
}

/** `read` gives a root config file's text, or null when the deployment has none. */
export async function checkSiteConfig(
  read: (name: ConfigFile) => Promise<{ text: string; size: number } | null>,
): Promise<SiteConfigCheck> {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const name of CONFIG_FILES) {
    const file = await read(name);
    if (file === null) continue;
    if (file.size > MAX_CONFIG_BYTES) {
      warnings.push(`${name} is larger than ${MAX_CONFIG_BYTES / 1024} KB and is ignored`);
      continue;
    }
    const parse = name === "_headers" ? parseHeaders : parseRedirects;
    parse(file.text, (line, message, severity) => {
      if (severity === "error") errors.push(`${name} line ${line}: ${message}`);
      else warnings.push(`${name} line ${line}: ${message} (the line is ignored)`);
    });
  }
  if (warnings.length > MAX_WARNINGS) {
    const more = warnings.length - MAX_WARNINGS;
    warnings.splice(MAX_WARNINGS, more, `... and ${more} more lines ignored`);
  }
  return { errors, warnings };
}

/** Why a deploy is refused for `check`'s errors (all of them, so one round of fixes suffices); or null. */
export function siteConfigRefusal(check: SiteConfigCheck): string | null {
  if (check.errors.length === 0) return null;
  const shown = check.errors.slice(0, 10);
  const more = check.errors.length > shown.length ? `; and ${check.errors.length - shown.length} more` : "";
  return `${shown.join("; ")}${more}`;
}

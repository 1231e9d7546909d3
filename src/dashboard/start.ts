// What the pages offering a first deployment need: the upload limits the browser checks before sending, and
// this dashboard's own address for the command line's `login`.

import type { StartInfo } from "../../views/components/start-cards.tsx";
import type { Config } from "../config/config.ts";
import { FILE_SET_LIMITS } from "../deploy/prebuilt.ts";

/** The address the browser reached us at; https when a TLS-terminating proxy in front says so. */
function serverUrl(request: Request): string {
  const url = new URL(request.url);
  const https = url.protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  return `${https ? "https:" : url.protocol}//${url.host}`;
}

export function startInfo(config: Pick<Config, "limits">, request: Request): StartInfo {
  return {
    limits: {
      maxFiles: FILE_SET_LIMITS.maxFiles,
      // PUT /api/files/:hash refuses a file over MAX_UPLOAD_MB, which may be lower than the deployment limit.
      maxFileBytes: Math.min(FILE_SET_LIMITS.maxFileBytes, config.limits.maxUploadMb * 1024 * 1024),
      maxTotalBytes: FILE_SET_LIMITS.maxTotalBytes,
    },
    serverUrl: serverUrl(request),
  };
}

// Config of request rate limits, sign-in throttling and per-user quotas.

import { bool, type Env, int, text } from "./parse.ts";

/** Request rate limits, sign-in throttling and per-user quotas (src/api/rate-limit.ts, src/identity/login-throttle.ts). 0 disables a limit. */
export interface LimitsConfig {
  /** API requests per minute from one client address, before authentication (RATE_LIMIT_IP_PER_MINUTE). */
  ipPerMinute: number;
  /** API reads (GET, HEAD) per minute per user (RATE_LIMIT_USER_PER_MINUTE). */
  userReadsPerMinute: number;
  /** API writes (POST, PUT, PATCH, DELETE) per minute per user (RATE_LIMIT_USER_WRITES_PER_MINUTE). */
  userWritesPerMinute: number;
  /** File uploads and hash checks per minute, per user and per address: a budget of their own (RATE_LIMIT_UPLOADS_PER_MINUTE). */
  uploadsPerMinute: number;
  /** Failed sign-ins for one email that lock it out; each further one doubles the lockout (LOGIN_MAX_FAILURES). */
  loginMaxFailures: number;
  /** The same for one client address, whatever the emails (LOGIN_MAX_FAILURES_PER_IP). */
  loginMaxFailuresPerIp: number;
  /** The first lockout; it doubles with every further failure, up to an hour (LOGIN_LOCKOUT_SECONDS). */
  loginLockoutSeconds: number;
  /** Largest file a user may upload (PUT /api/files/:hash), in MB (MAX_UPLOAD_MB, at most 100). */
  maxUploadMb: number;
  /** Projects one user may own (MAX_PROJECTS_PER_USER). */
  maxProjectsPerUser: number;
  /** Reverse proxies in front of the API whose X-Forwarded-For is trusted for the client address (TRUST_PROXY). */
  trustProxyHops: number;
}

/** TRUST_PROXY: a number of proxy hops, or true (one proxy) / false (none: the socket's address). */
function trustProxyHops(env: Env): number {
  const raw = text(env, "TRUST_PROXY");
  if (raw !== null && !/^\d+$/.test(raw)) return bool(env, "TRUST_PROXY", false) ? 1 : 0;
  return int(env, "TRUST_PROXY", 0, 0, 10);
}

export function parseLimits(env: Env): LimitsConfig {
  return {
    ipPerMinute: int(env, "RATE_LIMIT_IP_PER_MINUTE", 600, 0, 1_000_000),
    userReadsPerMinute: int(env, "RATE_LIMIT_USER_PER_MINUTE", 600, 0, 1_000_000),
    userWritesPerMinute: int(env, "RATE_LIMIT_USER_WRITES_PER_MINUTE", 120, 0, 1_000_000),
    // A deploy uploads each file it has new in one burst: 20,000 is the most files one deployment may have.
    uploadsPerMinute: int(env, "RATE_LIMIT_UPLOADS_PER_MINUTE", 20_000, 0, 10_000_000),
    loginMaxFailures: int(env, "LOGIN_MAX_FAILURES", 5, 0, 1000),
    loginMaxFailuresPerIp: int(env, "LOGIN_MAX_FAILURES_PER_IP", 20, 0, 100_000),
    loginLockoutSeconds: int(env, "LOGIN_LOCKOUT_SECONDS", 30, 1, 3600),
    // Not above 100: the CLI, the builders and deployments all refuse files over 100 MB.
    maxUploadMb: int(env, "MAX_UPLOAD_MB", 100, 1, 100),
    maxProjectsPerUser: int(env, "MAX_PROJECTS_PER_USER", 100, 0, 1_000_000),
    trustProxyHops: trustProxyHops(env),
  };
}

// `minivercel doctor`, this machine: the data directory can be written, and each port a role listens on is free
// (or already held by the minivercel server running on this data directory).

import fs from "node:fs";
import path from "node:path";
import { serversUsing } from "../backup/serving.ts";
import type { Config } from "../config/config.ts";
import { type Check, fail, messageOf, ok, type Result, skip } from "./check.ts";

const errorCode = (error: unknown): string | undefined =>
  error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;

/** Writable data directory: a file can be created in it, or (not there yet) in the parent that would hold it. */
export function dataDirCheck(dataDir: string): Check {
  return {
    name: "data directory",
    run: () => {
      let existing = dataDir;
      while (!fs.existsSync(existing) && path.dirname(existing) !== existing)
        existing = path.dirname(existing);
      if (!fs.statSync(existing).isDirectory())
        return fail(`${existing} is not a directory`, `set MINIVERCEL_DATA (or --data) to a directory`);
      const probe = path.join(existing, `.minivercel-doctor-${process.pid}`);
      try {
        fs.writeFileSync(probe, "", { flag: "wx" });
        fs.rmSync(probe);
      } catch (error) {
        const user = process.getuid?.() === 0 ? "root" : "the user the server runs as";
        return fail(
          `${existing} is not writable for this user (${errorCode(error) ?? messageOf(error)})`,
          `make it writable for ${user} (chown or chmod), or set MINIVERCEL_DATA to another directory`,
        );
      }
      return ok(
        existing === dataDir ? `${dataDir} is writable` : `${dataDir} will be created (in ${existing})`,
      );
    },
  };
}

/** The ports this config listens on, by what uses them. */
function ports(config: Config): { port: number; what: string; variable: string }[] {
  const list: { port: number; what: string; variable: string }[] = [];
  if (config.roles.includes("api"))
    list.push({ port: config.port, what: "API and dashboard", variable: "PORT" });
  if (config.roles.includes("proxy")) {
    list.push({ port: config.proxyPort, what: "sites", variable: "PROXY_PORT" });
    if (config.https)
      list.push({ port: config.https.port, what: "sites over HTTPS", variable: "HTTPS_PORT" });
  }
  if (config.roles.includes("functions"))
    list.push({ port: config.functions.port, what: "functions node", variable: "FUNCTIONS_PORT" });
  if (config.metrics.port !== null)
    list.push({ port: config.metrics.port, what: "metrics", variable: "METRICS_PORT" });
  return list;
}

export function portChecks(config: Config): Check[] {
  return ports(config).map(({ port, what, variable }) => ({
    name: `${variable} ${port}`,
    run: (): Result => {
      if (port === 0) return skip(`${variable}=0: any free port`);
      try {
        const listener = Bun.listen({ hostname: config.host, port, socket: { data() {} } });
        listener.stop(true);
        return ok(`free for the ${what} (${variable}, on ${config.host})`);
      } catch (error) {
        const code = errorCode(error);
        if (code === "EACCES" || code === "EPERM")
          return fail(
            `listening on ${port} (${variable}, the ${what}) needs root or CAP_NET_BIND_SERVICE`,
            `run minivercel as root (install.sh's service does), or set ${variable} to 1024 or above`,
          );
        if (code === "EADDRINUSE") {
          const servers = serversUsing(config.dataDir);
          if (servers.length > 0)
            return ok(
              `in use by the minivercel server running on ${config.dataDir} (pid ${servers.join(", ")})`,
            );
          return fail(
            `in use by another program (${variable}, for the ${what})`,
            `find it with: ss -ltnp 'sport = :${port}'; stop it, or set ${variable} to a free port`,
          );
        }
        return fail(
          `cannot listen on ${config.host}:${port}: ${messageOf(error)}`,
          `check LISTEN_HOST and ${variable}`,
        );
      }
    },
  }));
}

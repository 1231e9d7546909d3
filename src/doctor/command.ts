// `minivercel doctor`: checks this host for each role the config would run (sandbox, ports, data directory,
// DNS, HTTPS, the scale-out services), one line per check with the fix for each problem; exit 0 when none fails.

import { readFileSync } from "node:fs";
import { parseArgs, UsageError } from "../cli/args.ts";
import { type Config, type Env, loadConfig, type ServeFlags } from "../config/config.ts";
import { parseEnvFile } from "../config/env-file.ts";
import { VERSION } from "../config/version.ts";
import { ConfigError } from "../errors.ts";
import { type Check, fail, formatLine, runChecks, summary } from "./check.ts";
import { dnsChecks } from "./checks-dns.ts";
import { dataDirCheck, portChecks } from "./checks-host.ts";
import { sandboxChecks } from "./checks-sandbox.ts";
import { serviceChecks } from "./checks-services.ts";

export const DOCTOR_HELP = `Usage: minivercel doctor [--env-file FILE] [--role=all|api|worker|proxy|functions[,...]] [--port N] [--proxy-port N] [--data DIR] [--host ADDR]

  Checks this host for what 'minivercel serve' with the same settings would need, and prints one line per
  check (ok, WARN, FAIL or skip) with the fix for each problem. Exit 0 when no check failed, 1 otherwise.
  worker   the build sandbox: its programs, root, user namespaces, slirp4netns, cgroup limits, a real
           sandboxed command with its network (or ECS: the cluster and task definition)
  api      PORT is free (or held by the minivercel server on this data directory)
  proxy    PROXY_PORT (and HTTPS_PORT) free; BASE_DOMAIN and *.BASE_DOMAIN resolve; with ACME, the CA's
           directory answers and ports 443 and 80 can be reached (from here: best effort)
  all      the data directory is writable; Postgres, Kafka, ClickHouse and S3/R2 answer with the configured
           addresses and credentials (those that are configured)

  --env-file   read NAME=value settings from FILE over the environment (e.g. /etc/default/minivercel)
  --role, --port, --proxy-port, --data, --host   as for 'minivercel serve'`;

/** Each check gets this long; the slow ones (a service that does not answer) are cut off, not waited for. */
const LIMIT_MS = 15_000;

function checksFor(config: Config): Check[] {
  return [
    dataDirCheck(config.dataDir),
    ...portChecks(config),
    ...sandboxChecks(config),
    ...dnsChecks(config),
    ...serviceChecks(config),
  ];
}

function readSettings(file: string): Env {
  try {
    return parseEnvFile(readFileSync(file, "utf8"));
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new UsageError(`cannot read --env-file ${file} (${code})`);
  }
}

/** Runs the checks and prints the report on stdout; usage problems throw UsageError (main: exit 2). */
export async function runDoctor(argv: string[], env: Env): Promise<number> {
  const args = parseArgs(argv, { values: ["env-file", "role", "port", "proxy-port", "data", "host"] });
  if (args.switches.has("help")) {
    console.log(DOCTOR_HELP);
    return 0;
  }
  if (args.switches.has("version")) {
    console.log(VERSION);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const file = args.values["env-file"];
  const fromFile = file === undefined ? {} : readSettings(file);
  const settings = { ...env, ...fromFile };
  // They become this process's environment too, as systemd's EnvironmentFile= makes them the service's: the AWS
  // SDK reads its credentials from there itself (the ECS check, like the ECS runner, uses its default chain).
  Object.assign(process.env, fromFile);
  const flags: ServeFlags = {
    role: args.values.role,
    port: args.values.port,
    proxyPort: args.values["proxy-port"],
    data: args.values.data,
    host: args.values.host,
  };
  let config: Config;
  try {
    config = loadConfig(settings, flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A bad setting is a finding like any other: it would stop 'serve' the same way.
    console.log(`minivercel doctor ${VERSION}`);
    console.log(
      formatLine(
        "configuration",
        fail(error.message, "correct that setting (environment or --env-file)"),
        13,
      ),
    );
    console.log(summary([fail("", "")]));
    return 1;
  }
  console.log(`minivercel doctor ${VERSION}: roles ${config.roles.join(", ")}; data ${config.dataDir}`);
  const checks = checksFor(config);
  const results = await runChecks(checks, LIMIT_MS);
  const width = Math.max(...checks.map((c) => c.name.length));
  checks.forEach((check, i) => {
    const result = results[i];
    if (result) console.log(formatLine(check.name, result, width));
  });
  console.log(summary(results));
  return results.some((r) => r.status === "fail") ? 1 : 0;
}

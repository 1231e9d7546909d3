// Entry point: argv -> command (serve, doctor, user, token, migrate, backup, restore, and the client commands in src/cli/); exit codes 0 ok, 1 failure, 2 usage/config error.

import { parseArgs, UsageError } from "./cli/args.ts";
import { loadConfig, type ServeFlags } from "./config/config.ts";
import { VERSION } from "./config/version.ts";
import { AppError, ConfigError } from "./errors.ts";

const HELP: Record<string, string> = {
  main: `minivercel ${VERSION}: deploy static and front-end sites from git, on your own server.

Usage: minivercel <command> [options]

Commands:
  serve                 run the server (API + dashboard, worker, proxy)
  doctor                check this host for what serve needs (sandbox, ports, DNS, services)
  user create <email>   create an account (password read from stdin with --password-stdin)
  token create <email>  create an API token for an account and print it
  migrate               apply database migrations and exit
  backup <file>         write a snapshot of the data directory, while the server runs
  restore <file>        restore a backup into an empty data directory

Client commands (against a server; 'minivercel <command> --help' for each):
  login [url]           save the server URL and an API token
  deploy [dir]          deploy a folder: prebuilt, or source built on the server (--prod for production)
  projects              list your projects
  ls                    list a project's deployments
  logs <deployment>     print a build log (--follow to stream it)
  promote <deployment>  make a READY deployment production
  rollback              point production back at the previous deployment
  env ls|add|rm         a project's environment variables
  domains               a project's custom domain and its DNS verification
  protection            a project's deployment protection: mode, password, bypass tokens
  hooks                 a project's outgoing webhooks: deployment events, delivery log, redeliver
  teams                 teams, members and invitation links; --team SLUG acts in a team
  git-provider          a project's commit statuses and PR comments on GitHub, GitLab or Gitea

Options:
  -h, --help            show help for a command
  -v, --version         print the version

Configuration comes from environment variables (see docs/configuration.md); 'minivercel serve --help' lists the flags.`,
  serve: `Usage: minivercel serve [--role=all|api|worker|proxy|functions[,...]] [--port N] [--proxy-port N] [--data DIR] [--host ADDR]

  --role         which roles this process runs, comma-separated (default: all = api,worker,proxy; env MINIVERCEL_ROLE)
  --port         API and dashboard port (default 9000; env PORT)
  --proxy-port   proxy port for project sites (default 8001; env PROXY_PORT)
  --data         data directory for the embedded backends (default ./data; env MINIVERCEL_DATA)
  --host         address to bind (default 0.0.0.0; env LISTEN_HOST)`,
  user: `Usage: minivercel user create <email> --password-stdin [--data DIR]

  Creates an account. The password is the first line of standard input (at least 8 characters).`,
  token: `Usage: minivercel token create <email> [--name NAME] [--scope full|deploy|read] [--data DIR]

  Creates an API token for the account and prints it on stdout (shown only once). --scope: full (default,
  all the account may), deploy (read, deploy, upload, cancel, promote, roll back, push) or read (read only).`,
  migrate: `Usage: minivercel migrate [--data DIR]

  Applies pending database migrations (serve also does this at start) and prints what it applied.`,
};

function usage(command: string, problem?: string): number {
  if (problem) {
    console.error(`minivercel: ${problem}`);
    console.error(`Run 'minivercel ${command === "main" ? "" : `${command} `}--help' for usage.`);
    return 2;
  }
  console.log(HELP[command] ?? HELP.main);
  return 0;
}

async function readStdinLine(): Promise<string> {
  const text = await new Response(Bun.stdin.stream()).text();
  return text.split(/\r?\n/)[0] ?? "";
}

async function withDeps<T>(
  flags: ServeFlags,
  run: (deps: import("./deps.ts").Deps) => Promise<T>,
): Promise<T> {
  const { openDeps } = await import("./deps.ts");
  const deps = await openDeps(loadConfig(process.env, flags));
  try {
    return await run(deps);
  } finally {
    await deps.close();
  }
}

async function serve(flags: ServeFlags): Promise<number> {
  const config = loadConfig(process.env, flags);
  // Listening from the start: a signal during start-up stops the server once it is up, drained like any other.
  const { waitForSignal, armForcedExit } = await import("./roles.ts");
  const signalled = waitForSignal();
  const { openDeps } = await import("./deps.ts");
  const { startRoles } = await import("./roles.ts");
  const deps = await openDeps(config);
  // Restore refuses a data directory a server is using: this marker says so (gone when the process exits).
  const { markServing } = await import("./backup/serving.ts");
  const serving = markServing(config.dataDir);
  process.once("exit", () => serving.release());
  // What deep modules and libraries still print with console.* comes out in the same format (LOG_FORMAT).
  const { guardStdio, routeConsole } = await import("./observe/log.ts");
  routeConsole(deps.log);
  guardStdio();
  // `serve` starts the proxy's extra processes itself (PROXY_PROCESSES); tests calling startRoles do not.
  const running = await startRoles(deps, { proxyProcesses: true });
  // The binary starts with a reluctant JIT (scripts/build.ts: --compile-jit-policy): normal from here on.
  Bun.unsafe.setJITPolicy(1);
  // The banner is for the person starting the server: plain text whatever LOG_FORMAT says.
  const say = (line: string) => {
    try {
      process.stdout.write(`${line}\n`);
    } catch {
      // Whoever started us stopped reading (EPIPE): the banner is lost, the server is not.
    }
  };
  say(`minivercel ${VERSION} (roles: ${config.roles.join(", ")}; store: ${config.store.kind})`);
  if (running.urls.api)
    say(`  dashboard and API: ${running.urls.api}  (API docs: ${running.urls.api}/api/docs)`);
  if (running.urls.proxy) say(`  sites:             ${running.urls.proxy}`);
  if (running.urls.https) say(`  sites (https):     ${running.urls.https}`);
  if (running.urls.functions) say(`  functions node:    ${running.urls.functions}`);
  if (running.urls.metrics) say(`  metrics:           ${running.urls.metrics}`);
  if (config.store.kind === "sqlite") say(`  data:              ${config.dataDir}`);
  // Whether the first deploy can build, before anyone tries: the same answer as /api/health's `builds`.
  const { buildsStatus } = await import("./worker/readiness.ts");
  const builds = buildsStatus(config, deps.runner);
  if (builds.ready === false) {
    say(`  builds:            CANNOT RUN: ${builds.problem}`);
    say(`  fix:               ${builds.fix}`);
  } else if (builds.ready) say(`  builds:            ${builds.message}`);
  if (running.urls.api) say("  first account:     minivercel user create you@example.com --password-stdin");
  // The same facts as one JSON line for log collectors.
  if (config.log.format === "json")
    deps.log.info("started", { version: VERSION, roles: config.roles, ...running.urls });
  const signal = await signalled;
  const graceMs = config.shutdownTimeoutSeconds * 1000;
  deps.log.info(
    `${signal}: shutting down: no new connections; requests and builds get up to ${config.shutdownTimeoutSeconds} s ` +
      `(SHUTDOWN_TIMEOUT_SECONDS); send ${signal} again to exit at once`,
  );
  const disarm = armForcedExit(deps.log, graceMs);
  await running.stop(graceMs);
  await deps.close();
  disarm();
  deps.log.info("stopped");
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help")
    return usage("main");
  if (command === "-v" || command === "--version" || command === "version") {
    console.log(VERSION);
    return 0;
  }
  switch (command) {
    case "serve": {
      const args = parseArgs(argv.slice(1), { values: ["role", "port", "proxy-port", "data", "host"] });
      if (args.switches.has("help")) return usage("serve");
      if (args.switches.has("version")) return run(["--version"]);
      if (args.positionals.length > 0) return usage("serve", `unexpected argument '${args.positionals[0]}'`);
      return serve({
        role: args.values.role,
        port: args.values.port,
        proxyPort: args.values["proxy-port"],
        data: args.values.data,
        host: args.values.host,
      });
    }
    case "user": {
      const args = parseArgs(rest, { values: ["data"], switches: ["password-stdin"] });
      if (args.switches.has("help") || sub === "--help" || sub === "-h") return usage("user");
      if (args.switches.has("version") || sub === "--version" || sub === "-v") return run(["--version"]);
      if (sub !== "create")
        return usage("user", sub ? `unknown subcommand 'user ${sub}'` : "missing subcommand");
      const [email, extra] = args.positionals;
      if (!email || extra) return usage("user", "give exactly one email address");
      if (!args.switches.has("password-stdin"))
        return usage("user", "pass the password on stdin with --password-stdin");
      const password = await readStdinLine();
      const { createUser } = await import("./identity/accounts.ts");
      const user = await withDeps({ data: args.values.data }, (deps) =>
        createUser(deps.store, email, password),
      );
      console.log(`created user ${user.email}`);
      return 0;
    }
    case "token": {
      const args = parseArgs(rest, { values: ["data", "name", "scope"] });
      if (args.switches.has("help") || sub === "--help" || sub === "-h") return usage("token");
      if (args.switches.has("version") || sub === "--version" || sub === "-v") return run(["--version"]);
      if (sub !== "create")
        return usage("token", sub ? `unknown subcommand 'token ${sub}'` : "missing subcommand");
      const [email, extra] = args.positionals;
      if (!email || extra) return usage("token", "give exactly one email address");
      const { createApiToken } = await import("./identity/accounts.ts");
      const token = await withDeps({ data: args.values.data }, async (deps) => {
        const user = await deps.store.users.byEmail(email.trim().toLowerCase());
        if (!user) throw new AppError("not_found", `no user with email ${email}`);
        const scope = args.values.scope ?? "full";
        return (await createApiToken(deps.store, user.id, args.values.name ?? "cli", null, scope)).token;
      });
      console.log(token);
      return 0;
    }
    case "migrate": {
      const args = parseArgs(argv.slice(1), { values: ["data"] });
      if (args.switches.has("help")) return usage("migrate");
      if (args.switches.has("version")) return run(["--version"]);
      if (args.positionals.length > 0)
        return usage("migrate", `unexpected argument '${args.positionals[0]}'`);
      const { openStore } = await import("./store/store.ts");
      const config = loadConfig(process.env, { data: args.values.data });
      const { mkdirSync } = await import("node:fs");
      if (config.store.kind === "sqlite") {
        mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
        // The database lives in the data directory: one a newer minivercel changed is refused first.
        const { checkDataDir } = await import("./store/data-format.ts");
        checkDataDir(config.dataDir);
      }
      const store = await openStore(config.store);
      try {
        const applied = await store.migrate();
        console.log(
          applied.length > 0 ? `applied migrations ${applied.join(", ")}` : "database is up to date",
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case "doctor": {
      const { runDoctor } = await import("./doctor/command.ts");
      return runDoctor(argv.slice(1), process.env);
    }
    case "backup":
    case "restore": {
      const { runBackupCommand } = await import("./backup/command.ts");
      return runBackupCommand(command, argv.slice(1), process.env);
    }
    case "login":
    case "deploy":
    case "projects":
    case "ls":
    case "logs":
    case "promote":
    case "rollback":
    case "env":
    case "domains":
    case "protection":
    case "hooks":
    case "teams":
    case "git-provider": {
      const { runClientCommand } = await import("./cli/commands.ts");
      return runClientCommand(command, argv.slice(1), process.env);
    }
    case "proxy-process": {
      // Hidden: an extra proxy process, started by `serve` with PROXY_PROCESSES > 1 (src/roles-proxy-process.ts).
      const args = parseArgs(argv.slice(1), { values: ["proxy-port", "data", "host", "socket"] });
      const socket = args.values.socket;
      if (!socket) return usage("main", "proxy-process is started by serve");
      const config = loadConfig(process.env, {
        role: "proxy",
        proxyPort: args.values["proxy-port"],
        data: args.values.data,
        host: args.values.host,
      });
      const { runProxyProcess } = await import("./roles-proxy-process.ts");
      return runProxyProcess(config, socket);
    }
    case "builder": {
      // Hidden: the build program, started by a runner with the job on stdin (see builder/main.ts).
      const { builderMain } = await import("../builder/main.ts");
      return builderMain();
    }
    default:
      return usage("main", `unknown command '${command}'`);
  }
}

/** Runs the CLI and turns known errors into one line on stderr; unknown ones too, without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (error instanceof UsageError) return usage(argv[0] ?? "main", error.message);
    if (error instanceof ConfigError) {
      console.error(`minivercel: configuration error: ${error.message}`);
      return 2;
    }
    if (error instanceof AppError) {
      console.error(`minivercel: ${error.message}`);
      return error.status < 500 ? 2 : 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`minivercel: ${message}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // A failure may leave half-started servers or broker connections holding the event loop: exit for real.
  if (code !== 0) process.exit(code);
  process.exitCode = code;
}

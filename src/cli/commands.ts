// The client commands (login, deploy, projects, ls, logs, promote, rollback, env, domains, protection, hooks,
// git-provider, teams; --team on any of them): talk to a minivercel server over its API. Every failure is one
// line `minivercel: <message>` and exit 2 (usage, bad input) or 1.

import { VERSION } from "../config/version.ts";
import { parseArgs, UsageError } from "./args.ts";
import { type CliEnv, credentials, normalizeServerUrl, saveCredentials, savedUrl } from "./config.ts";
import { CREATE_HELP, projectsCreate } from "./create.ts";
import { deploy } from "./deploy.ts";
import { DOMAINS_HELP, domainsCommand } from "./domains.ts";
import { followLog, type Line, printLog } from "./follow.ts";
import { GIT_PROVIDER_HELP, gitProviderCommand } from "./git-provider.ts";
import { HOOKS_HELP, hooksCommand } from "./hooks.ts";
import { type Api, CliError, createApi } from "./http.ts";
import { listProjects, projectFor } from "./project-ref.ts";
import { PROTECTION_HELP, protectionCommand } from "./protection.ts";
import { AppSettings, DeploymentPage, EnvList, expectShape, Project, User } from "./responses.ts";
import { activeTeam, takeTeamFlag } from "./team-scope.ts";
import { TEAMS_HELP, teamsCommand } from "./teams.ts";

export const CLIENT_HELP: Record<string, string> = {
  login: `Usage: minivercel login [server-url] [--token TOKEN]

  Saves the server URL and an API token (create one in the dashboard or with 'minivercel token create')
  in $XDG_CONFIG_HOME/minivercel/config.json (mode 0600). Without --token the token is read from stdin.
  MINIVERCEL_URL and MINIVERCEL_TOKEN override the saved values (CI).`,
  deploy: `Usage: minivercel deploy [dir] [--prod] [--project ID|SUBDOMAIN] [--prebuilt | --build] [--branch B] [--json]

  Deploys a folder (default: the current one). A folder with a package.json that has a build script, or
  with api/ functions, is uploaded as source and built on the server (its log is streamed); else a folder with .vercel/output (a
  Build Output: 'vercel build', a framework adapter) is deployed with its functions; anything else is served
  as it is. Only files the server does not have yet are uploaded.
  --prod       make it the production deployment (default: a preview)
  --project    the project (default: the folder's .minivercel.json, else a new project named after it)
  --prebuilt   do not build: deploy its .vercel/output, or serve the folder as it is
  --build      upload it as source and build it on the server
  --branch     record the deployment under this branch (its preview URL)
  --json       print the result as JSON on stdout`,
  projects: `Usage: minivercel projects [--json]
       minivercel projects create <git-url> [...]   (see 'minivercel projects create --help')
       minivercel projects set [--start-command CMD] [--idle-minutes N] [--max-instances N] [--project ID|SUBDOMAIN]

  Lists your projects, or changes a project's app server settings (used by its next deployments' servers):
  --start-command   run deployments as an app server with this command (it listens on $PORT); "" clears it
                    (then a server the build leaves is detected: Next.js standalone, Nuxt, a start script, a Procfile)
  --idle-minutes    stop an idle server after N minutes (0: always on; "" back to the default, 15)
  --max-instances   instances per deployment when busy (1 to 20; "" back to the default, 1)`,
  ls: "Usage: minivercel ls [--project ID|SUBDOMAIN] [--json]\n\n  Lists a project's latest deployments (* marks production).",
  logs: `Usage: minivercel logs <deployment-id> [--follow]

  Prints a deployment's build log; --follow streams it until the deployment ends (exit 1 unless READY).`,
  promote:
    "Usage: minivercel promote <deployment-id>\n\n  Makes a READY deployment the production deployment.",
  rollback:
    "Usage: minivercel rollback [--project ID|SUBDOMAIN]\n\n  Points production back at the previous production deployment.",
  domains: DOMAINS_HELP,
  protection: PROTECTION_HELP,
  hooks: HOOKS_HELP,
  teams: TEAMS_HELP,
  "git-provider": GIT_PROVIDER_HELP,
  env: `Usage: minivercel env ls|set|rm [KEY] [VALUE] [--target production|preview] [--project ID|SUBDOMAIN]

  env ls            list the variables: names and the environments they apply to (values are write-only)
  env set KEY [V]   set a variable; without V the value is read from stdin ('env add' does the same)
  env rm KEY        remove a variable
  --target          only production or only preview deployments: set or remove the key's value for that
                    environment (the other keeps its own), or list what it sees; default: both`,
};

const encode = encodeURIComponent;

async function readStdin(): Promise<string> {
  return new Response(Bun.stdin.stream()).text();
}

function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    [],
  );
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const out = (text: string) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
const printLine = (line: Line) => out(line.text);

async function login(args: string[], env: CliEnv): Promise<number> {
  const parsed = parseArgs(args, { values: ["token"] });
  if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument '${parsed.positionals[1]}'`);
  const given = parsed.positionals[0] ?? savedUrl(env);
  if (!given) throw new UsageError("give the server URL, e.g. 'minivercel login http://localhost:9000'");
  const url = normalizeServerUrl(given);
  let token = parsed.values.token;
  if (token === undefined) {
    token = process.stdin.isTTY
      ? (prompt("API token:") ?? "")
      : ((await readStdin()).split(/\r?\n/)[0] ?? "");
  }
  token = token.trim();
  if (token === "") throw new CliError("no token given (pass --token or the token on stdin)", 2);
  const user = expectShape(User, await createApi(url, token).json("GET", "/api/user"), "user");
  const path = saveCredentials(env, { url, token });
  process.stderr.write(`Logged in to ${url} as ${user.email} (saved in ${path})\n`);
  return 0;
}

async function ls(api: Api, args: string[]): Promise<number> {
  const parsed = parseArgs(args, { values: ["project"], switches: ["json"] });
  const project = await projectFor(api, parsed.values.project, process.cwd());
  const page = expectShape(
    DeploymentPage,
    await api.json("GET", `/api/projects/${project.id}/deployments?limit=20`),
    "deployments",
  );
  if (parsed.switches.has("json")) {
    out(JSON.stringify(page.items));
    return 0;
  }
  if (page.items.length === 0) {
    out(`${project.subDomain} has no deployments yet`);
    return 0;
  }
  const rows = page.items.map((d) => [
    `${d.id === project.productionDeploymentId ? "*" : " "} ${d.id}`,
    d.status,
    d.target,
    d.branch ?? "-",
    age(d.createdAt),
    d.url,
  ]);
  out(table([["  ID", "STATUS", "TARGET", "BRANCH", "AGE", "URL"], ...rows]));
  return 0;
}

/** A whole number flag, or null for "" (back to the default). */
function wholeNumber(flag: string, value: string): number | null {
  if (value.trim() === "") return null;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${flag} must be a whole number (not '${value}')`);
  return Number(value.trim());
}

async function projectsSet(api: Api, args: string[]): Promise<number> {
  const parsed = parseArgs(args, { values: ["project", "start-command", "idle-minutes", "max-instances"] });
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const { values } = parsed;
  const patch: Record<string, string | number | null> = {};
  if (values["start-command"] !== undefined) patch.startCommand = values["start-command"].trim() || null;
  if (values["idle-minutes"] !== undefined)
    patch.idleTimeoutMinutes = wholeNumber("idle-minutes", values["idle-minutes"]);
  if (values["max-instances"] !== undefined)
    patch.maxInstances = wholeNumber("max-instances", values["max-instances"]);
  if (Object.keys(patch).length === 0)
    throw new UsageError("give at least one of --start-command, --idle-minutes, --max-instances");
  const target = await projectFor(api, values.project, process.cwd());
  const saved = expectShape(
    AppSettings,
    await api.json("PATCH", `/api/projects/${encode(target.id)}`, patch),
    "project",
  );
  out(
    [
      `${saved.subDomain}:`,
      `  start command   ${saved.startCommand ?? "(detected after the build)"}`,
      `  idle minutes    ${saved.idleTimeoutMinutes ?? "15 (default)"}${saved.idleTimeoutMinutes === 0 ? " (always on)" : ""}`,
      `  max instances   ${saved.maxInstances ?? "1 (default)"}`,
    ].join("\n"),
  );
  return 0;
}

async function projects(api: Api, args: string[]): Promise<number> {
  if (args[0] === "set") return projectsSet(api, args.slice(1));
  if (args[0] === "create") return projectsCreate(api, args.slice(1), out);
  const parsed = parseArgs(args, { switches: ["json"] });
  const all = await listProjects(api);
  if (parsed.switches.has("json")) {
    out(JSON.stringify(all));
    return 0;
  }
  if (all.length === 0) {
    out("no projects yet: 'minivercel deploy' creates one");
    return 0;
  }
  out(
    table([["SUBDOMAIN", "ID", "PRODUCTION URL"], ...all.map((p) => [p.subDomain, p.id, p.productionUrl])]),
  );
  return 0;
}

async function logs(api: Api, args: string[]): Promise<number> {
  const parsed = parseArgs(args, { switches: ["follow", "f"] });
  const [id, extra] = parsed.positionals;
  if (!id || extra) throw new UsageError("give exactly one deployment id");
  if (!parsed.switches.has("follow") && !parsed.switches.has("f")) {
    await printLog(api, id, printLine);
    return 0;
  }
  const final = await followLog(api, id, printLine, (text) => void process.stderr.write(`${text}\n`));
  if (final.status === "READY") return 0;
  throw new CliError(`deployment ${final.id} ${final.status}: ${final.statusReason ?? "no reason given"}`, 1);
}

async function promote(api: Api, args: string[]): Promise<number> {
  const [id, extra] = parseArgs(args, {}).positionals;
  if (!id || extra) throw new UsageError("give exactly one deployment id");
  const project = expectShape(
    Project,
    await api.json("POST", `/api/deployments/${encode(id)}/promote`),
    "project",
  );
  out(`Production: ${project.productionUrl} now serves ${project.productionDeploymentId ?? id}`);
  return 0;
}

async function rollback(api: Api, args: string[]): Promise<number> {
  const parsed = parseArgs(args, { values: ["project"] });
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const project = expectShape(
    Project,
    await api.json("POST", `/api/projects/${target.id}/rollback`),
    "project",
  );
  out(`Production: ${project.productionUrl} now serves ${project.productionDeploymentId ?? "nothing"}`);
  return 0;
}

const ENV_TARGETS = ["production", "preview"] as const;
type EnvTarget = (typeof ENV_TARGETS)[number];

/** --target: one environment, or none (both). */
function envTarget(given: string | undefined): EnvTarget | null {
  if (given === undefined) return null;
  const target = ENV_TARGETS.find((t) => t === given);
  if (!target)
    throw new UsageError(`--target must be production or preview (not '${given}'); omit it for both`);
  return target;
}

const environments = (targets: readonly string[]) =>
  targets.length === ENV_TARGETS.length ? "production and preview" : targets.join(", ");

async function envCommand(api: Api, args: string[]): Promise<number> {
  const parsed = parseArgs(args, { values: ["project", "target"] });
  const [action, key, value, extra] = parsed.positionals;
  const target = envTarget(parsed.values.target);
  const project = () => projectFor(api, parsed.values.project, process.cwd());
  switch (action) {
    case "ls": {
      if (key) throw new UsageError(`unexpected argument '${key}'`);
      const p = await project();
      const list = expectShape(EnvList, await api.json("GET", `/api/projects/${p.id}/env`), "variables");
      const items = list.items.filter((v) => target === null || v.target.includes(target));
      if (items.length === 0) {
        out(`${p.subDomain} has no variables${target ? ` for ${target}` : ""}`);
        return 0;
      }
      out(
        table([
          ["KEY", "ENVIRONMENTS", "UPDATED"],
          ...items.map((v) => [v.key, v.target.join(", "), `${age(v.updatedAt)} ago`]),
        ]),
      );
      return 0;
    }
    case "set":
    case "add": {
      if (!key || extra)
        throw new UsageError("give a KEY and optionally a VALUE (else it is read from stdin)");
      const p = await project();
      const secret = value ?? (await readStdin()).replace(/\r?\n$/, "");
      await api.json("PUT", `/api/projects/${p.id}/env/${encode(key)}`, {
        value: secret,
        ...(target && { target: [target] }),
      });
      const where = environments(target ? [target] : ENV_TARGETS);
      process.stderr.write(`Set ${key} for ${where} on ${p.subDomain} (used by its next deployments)\n`);
      return 0;
    }
    case "rm": {
      if (!key || value) throw new UsageError("give exactly one KEY");
      const p = await project();
      const query = target ? `?target=${target}` : "";
      await api.json("DELETE", `/api/projects/${p.id}/env/${encode(key)}${query}`);
      process.stderr.write(`Removed ${key}${target ? ` for ${target}` : ""} from ${p.subDomain}\n`);
      return 0;
    }
    default:
      throw new UsageError(action ? `unknown subcommand 'env ${action}'` : "give ls, set or rm");
  }
}

async function dispatch(command: string, given: string[], env: CliEnv): Promise<number> {
  const { args, team: flag } = takeTeamFlag(given);
  if (command === "login") return login(args, env);
  const creds = credentials(env);
  const team = activeTeam(env, flag);
  const api = createApi(creds.url, creds.token, team);
  switch (command) {
    case "deploy": {
      const parsed = parseArgs(args, {
        values: ["project", "branch"],
        switches: ["prod", "prebuilt", "build", "json"],
      });
      if (parsed.positionals.length > 1)
        throw new UsageError(`unexpected argument '${parsed.positionals[1]}'`);
      if (parsed.switches.has("prebuilt") && parsed.switches.has("build"))
        throw new UsageError("--prebuilt and --build exclude each other");
      return deploy(
        api,
        {
          dir: parsed.positionals[0] ?? ".",
          prod: parsed.switches.has("prod"),
          project: parsed.values.project,
          mode: parsed.switches.has("build")
            ? "source"
            : parsed.switches.has("prebuilt")
              ? "prebuilt"
              : "auto",
          branch: parsed.values.branch,
          json: parsed.switches.has("json"),
        },
        {
          stdout: (text) => void process.stdout.write(text),
          stderr: { isTTY: process.stderr.isTTY === true, write: (text) => void process.stderr.write(text) },
        },
      );
    }
    case "projects":
      return projects(api, args);
    case "ls":
      return ls(api, args);
    case "logs":
      return logs(api, args);
    case "promote":
      return promote(api, args);
    case "rollback":
      return rollback(api, args);
    case "env":
      return envCommand(api, args);
    case "domains":
      return domainsCommand(api, args, out);
    case "protection":
      return protectionCommand(api, args, out);
    case "hooks":
      return hooksCommand(api, args, out);
    case "teams":
      return teamsCommand(api, args, out, { env, team });
    case "git-provider":
      return gitProviderCommand(api, args, out);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Runs one client command; returns the exit code, having printed any failure as one line. */
export async function runClientCommand(command: string, args: string[], env: CliEnv): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    out(command === "projects" && args[0] === "create" ? CREATE_HELP : (CLIENT_HELP[command] ?? ""));
    return 0;
  }
  if (args.includes("--version") || args.includes("-v")) {
    out(VERSION);
    return 0;
  }
  try {
    return await dispatch(command, args, env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`minivercel: ${error.message} (see 'minivercel ${command} --help')\n`);
      return 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`minivercel: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`minivercel: ${command} failed: ${message}\n`);
    return 1;
  }
}

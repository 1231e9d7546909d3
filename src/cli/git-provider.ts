// `minivercel git-provider`: a project's commit statuses and pull-request comments on GitHub, GitLab or Gitea.

import { Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { projectFor } from "./project-ref.ts";
import { expectShape } from "./responses.ts";

export const GIT_PROVIDER_HELP = `Usage: minivercel git-provider [show | set github|gitlab|gitea | rm]
                               [--token T] [--api-url URL] [--repository OWNER/NAME] [--project ID|SUBDOMAIN]

  git-provider show             the project's provider (its token only as a hint) and the last reports sent
  git-provider set KIND         set commit statuses and one preview comment per pull/merge request on KIND;
                                the token is read from stdin (or asked for) unless --token gives it
    --api-url                   the REST API base: default https://api.github.com or https://gitlab.com/api/v4;
                                required for Gitea (https://<host>/api/v1)
    --repository                owner/name (GitLab: group/name); default: from the project's git URL
  git-provider rm               stop reporting and forget the token`;

const KINDS = ["github", "gitlab", "gitea"] as const;

const Provider = Type.Object({
  kind: Type.String(),
  apiUrl: Type.String(),
  repository: Type.Union([Type.String(), Type.Null()]),
  tokenHint: Type.String(),
  updatedAt: Type.String(),
});
const Shown = Type.Object({
  provider: Type.Union([Provider, Type.Null()]),
  reports: Type.Array(
    Type.Object({
      kind: Type.String(),
      subject: Type.String(),
      state: Type.String(),
      status: Type.String(),
      attempts: Type.Integer(),
      lastError: Type.Union([Type.String(), Type.Null()]),
      updatedAt: Type.String(),
    }),
  ),
});

async function readToken(given: string | undefined): Promise<string> {
  if (given !== undefined) return given.trim();
  const read = process.stdin.isTTY
    ? (prompt("Provider access token:") ?? "")
    : ((await new Response(Bun.stdin.stream()).text()).split(/\r?\n/)[0] ?? "");
  return read.trim();
}

export async function gitProviderCommand(
  api: Api,
  args: string[],
  out: (text: string) => void,
): Promise<number> {
  const parsed = parseArgs(args, { values: ["project", "token", "api-url", "repository"] });
  const [action = "show", first, more] = parsed.positionals;
  if (!["show", "set", "rm"].includes(action))
    throw new UsageError(`unknown subcommand 'git-provider ${action}'`);
  const extra = action === "set" ? more : first;
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  // Arguments are checked before the project is looked up: a usage error needs no server.
  if (action === "set" && !(KINDS as readonly (string | undefined)[]).includes(first))
    throw new UsageError(`give the provider: ${KINDS.join(", ")}`);
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const path = `/api/projects/${target.id}/git-provider`;
  if (action === "rm") {
    await api.json("DELETE", path);
    out(`removed the git provider of ${target.subDomain}`);
    return 0;
  }
  if (action === "set") {
    const token = await readToken(parsed.values.token);
    if (token === "") throw new UsageError("no token given (pass --token or the token on stdin)");
    const body = {
      kind: first,
      token,
      ...(parsed.values["api-url"] !== undefined && { apiUrl: parsed.values["api-url"] }),
      ...(parsed.values.repository !== undefined && { repository: parsed.values.repository }),
    };
    const saved = expectShape(Provider, await api.json("PUT", path, body), "git provider");
    out(
      `${target.subDomain}: commit statuses and PR comments on ${saved.kind} (${saved.apiUrl}), token ${saved.tokenHint}`,
    );
    return 0;
  }
  const shown = expectShape(Shown, await api.json("GET", path), "git provider");
  if (!shown.provider) {
    out("no git provider (set one with 'minivercel git-provider set github|gitlab|gitea')");
    return 0;
  }
  const p = shown.provider;
  out(`${p.kind}  ${p.apiUrl}  ${p.repository ?? "(repository from the git URL)"}  token ${p.tokenHint}`);
  if (shown.reports.length === 0) out("no reports sent yet");
  for (const r of shown.reports)
    out(
      `${r.updatedAt}  ${r.kind} ${r.subject.slice(0, 40)}  ${r.state}  ${r.status} after ${r.attempts} attempt(s)` +
        `${r.lastError ? `  ${r.lastError}` : ""}`,
    );
  return 0;
}

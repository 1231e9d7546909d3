// `minivercel protection`: a project's deployment protection: its mode, its password and its bypass tokens.

import { type Static, Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { projectFor } from "./project-ref.ts";
import { expectShape } from "./responses.ts";

export const PROTECTION_HELP = `Usage: minivercel protection [show | set MODE | password set|rm | bypass ls|create NAME|revoke ID]
                             [--project ID|SUBDOMAIN]

  protection show              the mode, whether a password is set, and the bypass tokens
  protection set MODE          none, previews (deployment and branch URLs need access) or all (production too)
  protection password set      set the password that opens protected URLs (read from stdin)
  protection password rm       remove the password
  protection bypass ls         list the bypass tokens for automation
  protection bypass create N   create one named N; it is printed once: send it as the x-vercel-protection-bypass
                               header (or query parameter)
  protection bypass revoke ID  revoke a token: every proxy refuses it at once`;

const MODES = ["none", "previews", "all"] as const;

const ProjectProtection = Type.Object({
  id: Type.String(),
  subDomain: Type.String(),
  protection: Type.String(),
  protectionPassword: Type.Boolean(),
});
const Bypass = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Type.String(),
});
const BypassList = Type.Object({ items: Type.Array(Bypass) });
const CreatedBypass = Type.Object({ token: Type.String(), record: Bypass });

function describe(project: Static<typeof ProjectProtection>): string {
  const what =
    project.protection === "none"
      ? "not protected: every URL is public"
      : project.protection === "previews"
        ? "previews protected: deployment and branch URLs need access, production is public"
        : "all protected: every URL needs access, production included";
  return `${project.subDomain}: ${what}; password ${project.protectionPassword ? "set" : "not set"}`;
}

async function readStdin(): Promise<string> {
  return new Response(Bun.stdin.stream()).text();
}

export async function protectionCommand(
  api: Api,
  args: string[],
  out: (text: string) => void,
): Promise<number> {
  const parsed = parseArgs(args, { values: ["project"] });
  const [action = "show", sub, extra, more] = parsed.positionals;
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const path = `/api/projects/${target.id}`;
  const read = (value: unknown) => expectShape(ProjectProtection, value, "project");
  const none = (...given: (string | undefined)[]) => {
    const unexpected = given.find((g) => g !== undefined);
    if (unexpected !== undefined) throw new UsageError(`unexpected argument '${unexpected}'`);
  };
  switch (action) {
    case "show": {
      none(sub, extra);
      out(describe(read(await api.json("GET", path))));
      const tokens = expectShape(
        BypassList,
        await api.json("GET", `${path}/protection/bypass`),
        "bypass tokens",
      );
      for (const t of tokens.items) out(`  bypass ${t.id}  ${t.name}  ${t.prefix}...  ${t.createdAt}`);
      return 0;
    }
    case "set": {
      none(extra);
      if (!sub || !(MODES as readonly string[]).includes(sub))
        throw new UsageError(`give a MODE: ${MODES.join(", ")}${sub ? ` (not '${sub}')` : ""}`);
      out(describe(read(await api.json("PATCH", path, { protection: sub }))));
      return 0;
    }
    case "password": {
      none(extra);
      if (sub === "set") {
        const password = (await readStdin()).replace(/\r?\n$/, "");
        await api.json("PUT", `${path}/protection/password`, { password });
        out("password set: it opens this project's protected URLs");
        return 0;
      }
      if (sub === "rm") {
        await api.json("DELETE", `${path}/protection/password`);
        out("password removed");
        return 0;
      }
      throw new UsageError("use 'protection password set' or 'protection password rm'");
    }
    case "bypass": {
      none(more);
      if (sub === "ls") {
        none(extra);
        const tokens = expectShape(
          BypassList,
          await api.json("GET", `${path}/protection/bypass`),
          "bypass tokens",
        );
        if (tokens.items.length === 0) out("no bypass tokens");
        for (const t of tokens.items) out(`${t.id}  ${t.name}  ${t.prefix}...  ${t.createdAt}`);
        return 0;
      }
      if (sub === "create") {
        if (!extra) throw new UsageError("give the token a NAME");
        const created = expectShape(
          CreatedBypass,
          await api.json("POST", `${path}/protection/bypass`, { name: extra }),
          "bypass token",
        );
        out(created.token);
        return 0;
      }
      if (sub === "revoke") {
        if (!extra) throw new UsageError("give the token's ID ('protection bypass ls' lists them)");
        await api.json("DELETE", `${path}/protection/bypass/${encodeURIComponent(extra)}`);
        out(`revoked ${extra}`);
        return 0;
      }
      throw new UsageError("use 'protection bypass ls', 'create NAME' or 'revoke ID'");
    }
    default:
      throw new UsageError(`unknown subcommand 'protection ${action}'`);
  }
}

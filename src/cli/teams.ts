// `minivercel teams`: the teams you belong to, creating one, inviting, members, removing, leaving, switching.

import { Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { CliEnv } from "./config.ts";
import { type Api, CliError } from "./http.ts";
import { expectShape } from "./responses.ts";
import { saveTeam } from "./team-scope.ts";

export const TEAMS_HELP = `Usage: minivercel teams ls | create SLUG [--name NAME] | invite [--role R] [--expires-hours N]
                      | members | rm-member EMAIL | leave | switch SLUG|personal     [--team SLUG]

  teams ls                 your teams and your role in each (* marks the current one)
  teams create SLUG        create a team (you are its owner)
  teams invite             print a one-time invitation link to the current team (owners)
    --role                 owner, member (default) or viewer
    --expires-hours        how long the link works (1 to 720, default 168)
  teams members            the current team's members and roles
  teams rm-member EMAIL    remove a member from the current team (owners)
  teams leave              leave the current team (its last owner cannot)
  teams switch SLUG        make a team current for every command (saved); 'personal' goes back

  --team SLUG works on every command: projects are then listed and created in that team
  (MINIVERCEL_TEAM does the same for CI).`;

const Role = Type.String();
const TeamList = Type.Object({
  items: Type.Array(Type.Object({ slug: Type.String(), name: Type.String(), role: Role })),
});
const Team = Type.Object({ slug: Type.String(), name: Type.String(), role: Role });
const Members = Type.Object({
  items: Type.Array(Type.Object({ userId: Type.String(), email: Type.String(), role: Role })),
});
const Link = Type.Object({ url: Type.String(), role: Role, expiresAt: Type.String() });
const Me = Type.Object({ id: Type.String(), email: Type.String() });

const encode = encodeURIComponent;
type Out = (text: string) => void;

function needTeam(team: string | null): string {
  if (!team) throw new UsageError("no current team: pass --team SLUG or run 'minivercel teams switch SLUG'");
  return team;
}

export async function teamsCommand(
  api: Api,
  args: string[],
  out: Out,
  context: { env: CliEnv; team: string | null },
): Promise<number> {
  const parsed = parseArgs(args, { values: ["name", "role", "expires-hours"] });
  const [action, arg, extra] = parsed.positionals;
  if (extra) throw new UsageError(`unexpected argument '${extra}'`);
  const noArg = () => {
    if (arg) throw new UsageError(`unexpected argument '${arg}'`);
  };
  switch (action ?? "ls") {
    case "ls": {
      noArg();
      const { items } = expectShape(TeamList, await api.json("GET", "/api/teams"), "teams");
      if (items.length === 0) {
        out("no teams yet: 'minivercel teams create SLUG' makes one");
        return 0;
      }
      const mark = (slug: string) => (slug === context.team ? "*" : " ");
      out(items.map((t) => `${mark(t.slug)} ${t.slug.padEnd(24)} ${t.role.padEnd(7)} ${t.name}`).join("\n"));
      return 0;
    }
    case "create": {
      if (!arg) throw new UsageError("give the team's slug, e.g. 'minivercel teams create acme-web'");
      const body = { slug: arg, ...(parsed.values.name && { name: parsed.values.name }) };
      const team = expectShape(Team, await api.json("POST", "/api/teams", body), "team");
      out(`Created team ${team.slug} (${team.name}); you are its owner. Use it with --team ${team.slug}`);
      return 0;
    }
    case "invite": {
      noArg();
      const hours = parsed.values["expires-hours"];
      if (hours !== undefined && !/^\d+$/.test(hours))
        throw new UsageError(`--expires-hours must be a whole number (not '${hours}')`);
      const role = parsed.values.role ?? "member";
      if (!["owner", "member", "viewer"].includes(role))
        throw new UsageError(`--role must be owner, member or viewer (not '${role}')`);
      const team = needTeam(context.team);
      const link = expectShape(
        Link,
        await api.json("POST", `/api/teams/${encode(team)}/invitations`, {
          role,
          ...(hours !== undefined && { expiresInHours: Number(hours) }),
        }),
        "invitation",
      );
      out(link.url);
      process.stderr.write(`One-time link to join ${team} as ${link.role}; it expires ${link.expiresAt}\n`);
      return 0;
    }
    case "members": {
      noArg();
      const team = needTeam(context.team);
      const { items } = expectShape(
        Members,
        await api.json("GET", `/api/teams/${encode(team)}/members`),
        "members",
      );
      out(items.map((m) => `${m.email.padEnd(36)} ${m.role}`).join("\n"));
      return 0;
    }
    case "rm-member": {
      if (!arg) throw new UsageError("give the member's email");
      const team = needTeam(context.team);
      const { items } = expectShape(
        Members,
        await api.json("GET", `/api/teams/${encode(team)}/members`),
        "members",
      );
      const member = items.find((m) => m.email.toLowerCase() === arg.toLowerCase() || m.userId === arg);
      if (!member) throw new CliError(`${arg} is not a member of ${team}`, 2);
      await api.json("DELETE", `/api/teams/${encode(team)}/members/${encode(member.userId)}`);
      out(`Removed ${member.email} from ${team}`);
      return 0;
    }
    case "leave": {
      noArg();
      const team = needTeam(context.team);
      const me = expectShape(Me, await api.json("GET", "/api/user"), "user");
      await api.json("DELETE", `/api/teams/${encode(team)}/members/${encode(me.id)}`);
      if (team === context.team) saveTeam(context.env, null);
      out(`Left ${team}; commands act in your personal scope now`);
      return 0;
    }
    case "switch": {
      if (!arg) throw new UsageError("give a team slug, or 'personal'");
      if (arg === "personal") {
        saveTeam(context.env, null);
        out("Commands act in your personal scope");
        return 0;
      }
      // Only a team one belongs to: the server says 404 for any other.
      const team = expectShape(Team, await api.json("GET", `/api/teams/${encode(arg)}`), "team");
      saveTeam(context.env, team.slug);
      out(`Commands act in team ${team.slug} (${team.name}, your role: ${team.role})`);
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand 'teams ${action}'`);
  }
}

// `minivercel domains`: a project's custom domain, its ownership check (the TXT record to create) and verify.

import { type Static, Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { projectFor } from "./project-ref.ts";
import { expectShape } from "./responses.ts";

export const DOMAINS_HELP = `Usage: minivercel domains [ls | add DOMAIN | verify | rm] [--project ID|SUBDOMAIN]

  domains ls          the project's custom domain: verified, or the DNS record still to create
  domains add DOMAIN  set the custom domain (it is served once verified)
  domains verify      check the domain's TXT record now
  domains rm          remove the custom domain`;

const ProjectDomain = Type.Object({
  id: Type.String(),
  subDomain: Type.String(),
  productionUrl: Type.String(),
  customDomain: Type.Union([Type.String(), Type.Null()]),
  customDomainVerifiedAt: Type.Union([Type.String(), Type.Null()]),
  domainVerification: Type.Union([
    Type.Object({ type: Type.String(), name: Type.String(), value: Type.String() }),
    Type.Null(),
  ]),
});
type ProjectDomain = Static<typeof ProjectDomain>;

/** What the user needs to know about the domain: where it stands and, if unverified, what to create. */
function describe(project: ProjectDomain): string {
  if (project.customDomain === null)
    return `${project.subDomain} has no custom domain (add one with 'minivercel domains add <domain>')`;
  if (project.customDomainVerifiedAt !== null)
    return `${project.customDomain}: verified (${project.customDomainVerifiedAt}), serves ${project.subDomain}'s production`;
  const record = project.domainVerification;
  return [
    `${project.customDomain}: not verified yet, so not served. Create this DNS record, then run 'minivercel domains verify':`,
    record ? `  ${record.type}  ${record.name}  "${record.value}"` : "",
    `and point ${project.customDomain} at this server (CNAME to the production host, or an A record).`,
  ]
    .filter((line) => line !== "")
    .join("\n");
}

export async function domainsCommand(api: Api, args: string[], out: (text: string) => void): Promise<number> {
  const parsed = parseArgs(args, { values: ["project"] });
  const [action = "ls", domain, extra] = parsed.positionals;
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const path = `/api/projects/${target.id}`;
  const read = (value: unknown) => expectShape(ProjectDomain, value, "project");
  switch (action) {
    case "ls":
      if (domain) throw new UsageError(`unexpected argument '${domain}'`);
      out(describe(read(await api.json("GET", path))));
      return 0;
    case "add":
      if (!domain || extra) throw new UsageError("give exactly one DOMAIN");
      out(describe(read(await api.json("PATCH", path, { customDomain: domain }))));
      return 0;
    case "verify":
      if (domain) throw new UsageError(`unexpected argument '${domain}'`);
      // A record that is missing or wrong is the API's 422, which the CLI reports as one line (exit 2).
      out(describe(read(await api.json("POST", `${path}/domain/verify`))));
      return 0;
    case "rm":
      if (domain) throw new UsageError(`unexpected argument '${domain}'`);
      out(describe(read(await api.json("PATCH", path, { customDomain: null }))));
      return 0;
    default:
      throw new UsageError(`unknown subcommand 'domains ${action}'`);
  }
}

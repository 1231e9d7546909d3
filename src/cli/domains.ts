// `minivercel domains`: a project's custom domains, each one's ownership check (the TXT record to create), verify,
// and redirects between them (apex -> www).

import { type Static, Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { projectFor } from "./project-ref.ts";
import { expectShape } from "./responses.ts";

export const DOMAINS_HELP = `Usage: minivercel domains [ls | add DOMAIN | verify [DOMAIN] | rm [DOMAIN] | redirect DOMAIN]
                         [--project ID|SUBDOMAIN]

  domains ls                  the project's custom domains: verified, redirecting, or the DNS record to create
  domains add DOMAIN          add a domain (it is served once verified)
      --www                   the www pair: www.DOMAIN serves and DOMAIN redirects to it (DOMAIN may be either;
                              what the project lacks is added, an apex it has already is made to redirect)
      --redirect-to D         redirect DOMAIN to D, another domain of the project (path and query kept)
      --status N              the redirect's status: 308 (default), 301, 302 or 307
  domains verify [DOMAIN]     check the TXT record of DOMAIN (default: every domain not verified yet)
  domains redirect DOMAIN     --to D [--status N] to redirect it, or --off to serve it again
  domains rm [DOMAIN]         remove DOMAIN (without one: the project's only domain)`;

const Domain = Type.Object({
  name: Type.String(),
  verifiedAt: Type.Union([Type.String(), Type.Null()]),
  redirectTo: Type.Union([Type.String(), Type.Null()]),
  redirectStatus: Type.Union([Type.Number(), Type.Null()]),
  verification: Type.Object({ type: Type.String(), name: Type.String(), value: Type.String() }),
});
type Domain = Static<typeof Domain>;
const DomainList = Type.Object({ items: Type.Array(Domain) });

/** Where one domain stands and, if unverified, what to create. */
function describeOne(domain: Domain, subDomain: string): string {
  const serves = domain.redirectTo
    ? `redirects to ${domain.redirectTo} (${domain.redirectStatus ?? 308})`
    : `serves ${subDomain}'s production`;
  if (domain.verifiedAt !== null) return `${domain.name}: verified (${domain.verifiedAt}), ${serves}`;
  const record = domain.verification;
  return [
    `${domain.name}: not verified yet, so not served (once verified it ${serves}). Create this DNS record, then run 'minivercel domains verify ${domain.name}':`,
    `  ${record.type}  ${record.name}  "${record.value}"`,
    `and point ${domain.name} at this server (CNAME to the production host, or an A record).`,
  ].join("\n");
}

function describe(domains: Domain[], subDomain: string): string {
  if (domains.length === 0)
    return `${subDomain} has no custom domain (add one with 'minivercel domains add <domain>')`;
  return domains.map((d) => describeOne(d, subDomain)).join("\n");
}

/** The other half of a www pair: `www.example.com` for `example.com`, and the other way round. */
const pairName = (name: string) => (name.startsWith("www.") ? name.slice("www.".length) : `www.${name}`);

function redirectStatus(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!["301", "302", "307", "308"].includes(value))
    throw new UsageError(`--status must be 301, 302, 307 or 308, not '${value}'`);
  return Number(value);
}

export async function domainsCommand(api: Api, args: string[], out: (text: string) => void): Promise<number> {
  const parsed = parseArgs(args, {
    values: ["project", "redirect-to", "status", "to"],
    switches: ["www", "off"],
  });
  const [action = "ls", domain, extra] = parsed.positionals;
  if (extra) throw new UsageError(`unexpected argument '${extra}'`);
  const status = redirectStatus(parsed.values.status);
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const path = `/api/projects/${target.id}/domains`;
  const list = async () => expectShape(DomainList, await api.json("GET", path), "domains").items;
  const one = (value: unknown) => expectShape(Domain, value, "domain");
  const at = (name: string) => `${path}/${encodeURIComponent(name.toLowerCase())}`;
  switch (action) {
    case "ls":
      if (domain) throw new UsageError(`unexpected argument '${domain}'`);
      out(describe(await list(), target.subDomain));
      return 0;
    case "add": {
      if (!domain) throw new UsageError("give exactly one DOMAIN");
      const redirectTo = parsed.values["redirect-to"];
      const body = {
        name: domain,
        ...(redirectTo !== undefined && { redirectTo }),
        ...(status !== undefined && { redirectStatus: status }),
        ...(parsed.switches.has("www") && { www: true }),
      };
      const added = expectShape(DomainList, await api.json("POST", path, body), "domains").items;
      const name = domain.toLowerCase().replace(/\.$/, "");
      const pair = pairName(name);
      const shown = added.filter((d) => d.name === name || (parsed.switches.has("www") && d.name === pair));
      out(describe(shown, target.subDomain));
      // The other half of a www pair is a domain of the project already: offer the redirect between them.
      const partner = parsed.switches.has("www") ? undefined : added.find((d) => d.name === pair);
      if (partner && partner.redirectTo === null && !shown.some((d) => d.redirectTo !== null)) {
        const apex = name.startsWith("www.") ? pair : name;
        const www = name.startsWith("www.") ? name : pair;
        out(
          `${partner.name} is a domain of this project too: 'minivercel domains add ${name} --www' redirects ${apex} to ${www}`,
        );
      }
      return 0;
    }
    case "verify": {
      // A record that is missing or wrong is the API's 422, which the CLI reports as one line (exit 2).
      const names = domain
        ? [domain]
        : (await list()).filter((d) => d.verifiedAt === null).map((d) => d.name);
      if (names.length === 0) {
        out("every custom domain of this project is verified");
        return 0;
      }
      for (const name of names)
        out(describeOne(one(await api.json("POST", `${at(name)}/verify`)), target.subDomain));
      return 0;
    }
    case "redirect": {
      if (!domain) throw new UsageError("give the DOMAIN to redirect");
      const to = parsed.values.to;
      if ((to === undefined) === !parsed.switches.has("off"))
        throw new UsageError("give either --to DOMAIN (redirect) or --off (serve it again)");
      const body =
        to === undefined
          ? { redirectTo: null }
          : { redirectTo: to, ...(status && { redirectStatus: status }) };
      out(describeOne(one(await api.json("PATCH", at(domain), body)), target.subDomain));
      return 0;
    }
    case "rm": {
      let name = domain;
      if (!name) {
        const domains = await list();
        if (domains.length > 1)
          throw new UsageError(`the project has ${domains.length} domains; give the DOMAIN to remove`);
        name = domains[0]?.name;
      }
      if (name) await api.json("DELETE", at(name));
      out(describe(await list(), target.subDomain));
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand 'domains ${action}'`);
  }
}

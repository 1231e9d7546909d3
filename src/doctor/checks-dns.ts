// `minivercel doctor`, proxy role: BASE_DOMAIN and every name under it resolve, and with automatic HTTPS the
// CA's directory answers and ports 443 and 80 of the site's address can be reached (from here: best effort).

import { lookup, Resolver } from "node:dns/promises";
import { connect } from "node:net";
import type { Config } from "../config/config.ts";
import { type Check, fail, messageOf, ok, type Result, warn } from "./check.ts";

const TIMEOUT_MS = 3_000;

type Resolve = (name: string) => Promise<string[]>;

/** Through DNS_RESOLVERS when set (as custom domains are checked), else as this machine resolves names. */
function resolverFor(servers: string[]): Resolve {
  if (servers.length === 0) return async (name) => (await lookup(name, { all: true })).map((a) => a.address);
  const resolver = new Resolver({ timeout: TIMEOUT_MS, tries: 1 });
  resolver.setServers(servers);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const found = [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
    if (found.length === 0) throw v4.status === "rejected" ? v4.reason : new Error("no address");
    return found;
  };
}

/** The addresses of `name`, or why there are none, in words. */
async function addressesOf(resolve: Resolve, name: string): Promise<string[] | string> {
  try {
    const found = await resolve(name);
    return found.length > 0 ? found : "no address";
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "";
    if (code === "ENOTFOUND" || code === "ENODATA") return "no such name";
    return messageOf(error);
  }
}

/** Whether a TCP connection to host:port opens within the time limit; the reason when not. */
function reach(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(TIMEOUT_MS, () => done(`no answer within ${TIMEOUT_MS / 1000} s`));
    socket.once("connect", () => done(null));
    socket.once("error", (error) => done(messageOf(error)));
  });
}

export function dnsChecks(config: Config): Check[] {
  if (!config.roles.includes("proxy")) return [];
  const base = config.baseDomain;
  if (base === "localhost")
    return [
      {
        name: "BASE_DOMAIN",
        run: () =>
          ok(
            `localhost: sites at http://<project>.localhost:${config.proxyPort} on this machine only ` +
              "(set BASE_DOMAIN to a domain of yours, with a wildcard DNS record, to serve them to others)",
          ),
      },
    ];
  const resolve = resolverFor(config.domains.resolvers);
  const checks: Check[] = [
    {
      name: "BASE_DOMAIN",
      run: async () => {
        const found = await addressesOf(resolve, base);
        if (typeof found !== "string") return ok(`${base} resolves to ${found.join(", ")}`);
        return fail(
          `${base} does not resolve (${found})`,
          `add a DNS A record for ${base} pointing at this server`,
        );
      },
    },
    {
      name: "wildcard DNS",
      run: async () => {
        const probe = `minivercel-doctor-${crypto.randomUUID().slice(0, 8)}.${base}`;
        const found = await addressesOf(resolve, probe);
        if (typeof found !== "string")
          return ok(`any name under ${base} resolves (${probe}: ${found.join(", ")})`);
        return fail(
          `names under ${base} do not resolve (${probe}: ${found}), so <project>.${base} cannot reach the sites`,
          `add a wildcard DNS record *.${base} pointing at this server`,
        );
      },
    },
  ];
  const https = config.https;
  if (https === null) return checks;
  checks.push(
    {
      name: "ACME directory",
      run: async (): Promise<Result> => {
        try {
          const tls = https.caFile === null ? {} : { tls: { ca: await Bun.file(https.caFile).text() } };
          const response = await fetch(https.directoryUrl, {
            signal: AbortSignal.timeout(TIMEOUT_MS * 2),
            ...tls,
          });
          if (response.ok) return ok(`${https.directoryUrl} answers`);
          return fail(`${https.directoryUrl} answered HTTP ${response.status}`, "check ACME_DIRECTORY_URL");
        } catch (error) {
          return fail(
            `${https.directoryUrl} cannot be reached from here: ${messageOf(error)}`,
            "check ACME_DIRECTORY_URL and that this server can make outgoing HTTPS connections",
          );
        }
      },
    },
    {
      name: "HTTPS from outside",
      run: async (): Promise<Result> => {
        const host = https.dashboardHost;
        const found = await addressesOf(resolve, host);
        if (typeof found === "string")
          return fail(
            `${host} does not resolve (${found})`,
            `add a DNS record for ${host} pointing at this server`,
          );
        const address = found[0] ?? host;
        // The CA connects from outside: to 80 for http-01 challenges, and people to 443.
        const problems: string[] = [];
        for (const port of [443, 80]) {
          const why = await reach(address, port);
          if (why !== null) problems.push(`${address}:${port}: ${why}`);
        }
        if (problems.length === 0)
          return ok(
            `${host} (${address}) answers on 443 and 80 from here; from outside, try: curl -I https://${host}`,
          );
        return warn(
          `could not reach ${problems.join("; ")} from here (only a check from another network is sure)`,
          `open ports 80 and 443 to this server, then check from another network: curl -I https://${host}`,
        );
      },
    },
  );
  return checks;
}

// Automatic HTTPS, DNS-01: publish and remove the `_acme-challenge` TXT record at the operator's DNS host.
// Two providers: lego's generic `httpreq` protocol (any small adapter can speak it) and Cloudflare's API.

import type { DnsConfig } from "../config.ts";

/** Sets and removes TXT records; `fqdn` ends with a dot, as in lego's httpreq protocol. */
export interface DnsProvider {
  present(fqdn: string, value: string): Promise<void>;
  cleanup(fqdn: string, value: string): Promise<void>;
}

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) {
    const body = (await response.text()).slice(0, 300);
    throw new Error(`${what}: HTTP ${response.status} ${body}`);
  }
  return response;
}

/** lego's httpreq: POST {"fqdn","value"} as JSON to <url>/present and <url>/cleanup, optional basic auth. */
function httpreq(config: Extract<DnsConfig, { kind: "httpreq" }>): DnsProvider {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (config.username !== null && config.password !== null) {
    headers.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString("base64")}`;
  }
  const call = async (action: "present" | "cleanup", fqdn: string, value: string) => {
    const response = await fetch(`${config.url}/${action}`, {
      method: "POST",
      headers,
      body: JSON.stringify({ fqdn, value }),
      signal: AbortSignal.timeout(30_000),
    });
    await ok(response, `DNS httpreq ${action} ${fqdn}`);
  };
  return {
    present: (fqdn, value) => call("present", fqdn, value),
    cleanup: (fqdn, value) => call("cleanup", fqdn, value),
  };
}

interface CloudflareList {
  result?: { id?: unknown; name?: unknown }[];
}

/** Cloudflare's v4 API with a scoped API token (Zone:DNS:Edit); the zone is found by name unless given. */
function cloudflare(config: Extract<DnsConfig, { kind: "cloudflare" }>): DnsProvider {
  const headers = { authorization: `Bearer ${config.apiToken}`, "content-type": "application/json" };
  const api = async (path: string, init: RequestInit = {}): Promise<CloudflareList> => {
    const response = await fetch(`${config.apiUrl}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(30_000),
    });
    return (await (
      await ok(response, `Cloudflare ${init.method ?? "GET"} ${path}`)
    ).json()) as CloudflareList;
  };
  /** The zone holding `name`: the longest suffix that is a zone of this account. */
  async function zoneOf(name: string): Promise<string> {
    if (config.zoneId !== null) return config.zoneId;
    const labels = name.replace(/\.$/, "").split(".");
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join(".");
      const found = await api(`/zones?name=${encodeURIComponent(candidate)}`);
      const id = found.result?.[0]?.id;
      if (typeof id === "string") return id;
    }
    throw new Error(`Cloudflare: no zone of this API token contains ${name}`);
  }
  return {
    async present(fqdn, value) {
      const zone = await zoneOf(fqdn);
      await api(`/zones/${zone}/dns_records`, {
        method: "POST",
        body: JSON.stringify({ type: "TXT", name: fqdn.replace(/\.$/, ""), content: value, ttl: 120 }),
      });
    },
    async cleanup(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const name = encodeURIComponent(fqdn.replace(/\.$/, ""));
      const found = await api(
        `/zones/${zone}/dns_records?type=TXT&name=${name}&content=${encodeURIComponent(value)}`,
      );
      for (const record of found.result ?? []) {
        if (typeof record.id === "string")
          await api(`/zones/${zone}/dns_records/${record.id}`, { method: "DELETE" });
      }
    },
  };
}

/** The configured provider; `present` waits `waitSeconds` so the record reaches every authoritative server. */
export function openDnsProvider(config: DnsConfig, waitSeconds: number): DnsProvider {
  const provider = config.kind === "httpreq" ? httpreq(config) : cloudflare(config);
  return {
    async present(fqdn, value) {
      await provider.present(fqdn, value);
      if (waitSeconds > 0) await Bun.sleep(waitSeconds * 1000);
    },
    cleanup: (fqdn, value) => provider.cleanup(fqdn, value),
  };
}

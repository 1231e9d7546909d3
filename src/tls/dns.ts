// Automatic HTTPS, DNS-01: publish and remove the `_acme-challenge` TXT record at the operator's DNS host.
// Two providers: lego's generic `httpreq` protocol (any small adapter can speak it) and Cloudflare's API.

import type { DnsConfig } from "../config/config.ts";

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

/** Cloudflare's v4 envelope: `result` is only meaningful when `success` is true; `errors` say why not. */
interface CloudflareEnvelope {
  success?: unknown;
  errors?: { code?: unknown; message?: unknown }[];
  result?: unknown;
}

interface CloudflareRecord {
  id?: unknown;
  name?: unknown;
  content?: unknown;
}

/** TXT content as Cloudflare stores it: quoted character-strings (RFC 1035); the value without its quotes. */
const quoted = (value: string) => `"${value}"`;
const unquoted = (content: string) => content.replace(/^"(.*)"$/, "$1");

/**
 * Cloudflare's v4 API with a scoped API token (Zone:DNS:Edit); the zone is found by name unless given.
 * Endpoints: GET /zones?name=, POST and GET /zones/:zone/dns_records, DELETE /zones/:zone/dns_records/:id.
 */
function cloudflare(config: Extract<DnsConfig, { kind: "cloudflare" }>): DnsProvider {
  const headers = { authorization: `Bearer ${config.apiToken}`, "content-type": "application/json" };
  /** Records this process created, by "<fqdn> <value>": cleanup deletes by id without a search. */
  const created = new Map<string, string>();
  const zones = new Map<string, string>();

  const api = async (path: string, init: RequestInit = {}): Promise<unknown> => {
    const what = `Cloudflare ${init.method ?? "GET"} ${path.replace(/\?.*$/, "")}`;
    const response = await fetch(`${config.apiUrl}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let body: CloudflareEnvelope = {};
    try {
      body = JSON.parse(text) as CloudflareEnvelope;
    } catch {
      // Not Cloudflare's envelope (a proxy's error page): reported below with the status.
    }
    // Cloudflare may answer 200 with success: false; either way the errors array says what went wrong.
    if (!response.ok || body.success !== true) {
      const errors = Array.isArray(body.errors)
        ? body.errors.map((e) => `${String(e.code)}: ${String(e.message)}`).join("; ")
        : text.slice(0, 300);
      throw new Error(`${what}: HTTP ${response.status} ${errors}`);
    }
    return body.result;
  };
  const records = (result: unknown): CloudflareRecord[] =>
    Array.isArray(result) ? (result as CloudflareRecord[]) : [];

  /** The zone holding `name`: the longest suffix that is a zone of this account. */
  async function zoneOf(name: string): Promise<string> {
    if (config.zoneId !== null) return config.zoneId;
    const labels = name.replace(/\.$/, "").split(".");
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join(".");
      const cached = zones.get(candidate);
      if (cached) return cached;
      const id = records(await api(`/zones?name=${encodeURIComponent(candidate)}`))[0]?.id;
      if (typeof id === "string") {
        zones.set(candidate, id);
        return id;
      }
    }
    throw new Error(`Cloudflare: no zone of this API token contains ${name}`);
  }
  return {
    async present(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const result = (await api(`/zones/${zone}/dns_records`, {
        method: "POST",
        body: JSON.stringify({
          type: "TXT",
          name: fqdn.replace(/\.$/, ""),
          content: quoted(value),
          ttl: 120,
          comment: "ACME DNS-01 challenge (minivercel); removed after validation",
        }),
      })) as CloudflareRecord | null;
      if (typeof result?.id === "string") created.set(`${fqdn} ${value}`, result.id);
    },
    async cleanup(fqdn, value) {
      const zone = await zoneOf(fqdn);
      const key = `${fqdn} ${value}`;
      const known = created.get(key);
      let ids: string[];
      if (known) ids = [known];
      else {
        // Created by an earlier run of this process: find it by name, and match the value here (quoted or not).
        const name = fqdn.replace(/\.$/, "");
        const found = records(
          await api(
            `/zones/${zone}/dns_records?type=TXT&name.exact=${encodeURIComponent(name)}&per_page=100`,
          ),
        );
        ids = found
          .filter((r) => typeof r.content === "string" && unquoted(r.content) === value)
          .flatMap((r) => (typeof r.id === "string" ? [r.id] : []));
      }
      for (const id of ids) await api(`/zones/${zone}/dns_records/${id}`, { method: "DELETE" });
      created.delete(key);
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

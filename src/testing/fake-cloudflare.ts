// Test support for the Cloudflare DNS-01 provider: a small stand-in for Cloudflare's v4 API (the endpoints
// src/tls/dns.ts uses, with Cloudflare's bearer-token check, `{success, errors, messages, result}` envelope and
// status codes) that hands every TXT record it holds to a real DNS server, so the CA validates what was created.

export interface FakeCloudflare {
  /** What to put in CLOUDFLARE_API_URL. */
  apiUrl: string;
  /** The id of the one zone this token can see. */
  zoneId: string;
  /** Requests as "<METHOD> <path>" (no query), in order, including refused ones. */
  calls: string[];
  /** Every record ever created, as sent (content quoted or not). */
  created: { name: string; content: string }[];
  /** TXT records currently held, by id. */
  records(): { id: string; name: string; content: string }[];
  stop(): Promise<void>;
}

interface CfRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
}

const hexId = () => crypto.randomUUID().replaceAll("-", "");

/** Cloudflare's envelope; `result_info` on lists as the real API sends it. */
function envelope(status: number, result: unknown, errors: { code: number; message: string }[] = []) {
  const body: { [key: string]: unknown } = { success: errors.length === 0, errors, messages: [], result };
  if (Array.isArray(result))
    body.result_info = { page: 1, per_page: 100, count: result.length, total_count: result.length };
  return Response.json(body, { status });
}

export function startFakeCloudflare(opts: {
  token: string;
  zone: string;
  /** Called when a TXT record is created or deleted: the real DNS server gets `content` without its quotes. */
  publish(name: string, values: string[]): Promise<void>;
}): FakeCloudflare {
  const zoneId = hexId();
  const calls: string[] = [];
  const held = new Map<string, CfRecord>();
  const created: { name: string; content: string }[] = [];
  const valuesOf = (name: string) =>
    [...held.values()].filter((r) => r.name === name).map((r) => r.content.replace(/^"(.*)"$/, "$1"));

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      calls.push(`${request.method} ${url.pathname}`);
      if (request.headers.get("authorization") !== `Bearer ${opts.token}`)
        return envelope(403, null, [{ code: 10000, message: "Authentication error" }]);
      const path = url.pathname.replace(/^\/client\/v4/, "");
      if (path === "/zones" && request.method === "GET") {
        const name = url.searchParams.get("name");
        return envelope(200, name === opts.zone ? [{ id: zoneId, name: opts.zone, status: "active" }] : []);
      }
      const match = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path);
      if (!match) return envelope(404, null, [{ code: 7003, message: `Could not route to ${path}` }]);
      if (match[1] !== zoneId)
        return envelope(404, null, [{ code: 7003, message: "Invalid zone identifier" }]);
      const recordId = match[2];
      if (recordId === undefined && request.method === "POST") {
        const body = (await request.json()) as Partial<CfRecord>;
        if (
          typeof body.name !== "string" ||
          typeof body.content !== "string" ||
          typeof body.type !== "string"
        )
          return envelope(400, null, [{ code: 9000, message: "DNS name, type and content are required" }]);
        if (!body.name.endsWith(opts.zone))
          return envelope(400, null, [{ code: 9005, message: "Record name is outside of the zone" }]);
        const record: CfRecord = {
          id: hexId(),
          type: body.type,
          name: body.name,
          content: body.content,
          ttl: typeof body.ttl === "number" ? body.ttl : 1,
        };
        held.set(record.id, record);
        created.push({ name: record.name, content: record.content });
        if (record.type === "TXT") await opts.publish(record.name, valuesOf(record.name));
        return envelope(200, record);
      }
      if (recordId === undefined && request.method === "GET") {
        const type = url.searchParams.get("type");
        const name = url.searchParams.get("name.exact") ?? url.searchParams.get("name");
        return envelope(
          200,
          [...held.values()].filter((r) => (!type || r.type === type) && (!name || r.name === name)),
        );
      }
      if (recordId !== undefined && request.method === "DELETE") {
        const record = held.get(recordId);
        if (!record) return envelope(404, null, [{ code: 81044, message: "Record does not exist." }]);
        held.delete(recordId);
        if (record.type === "TXT") await opts.publish(record.name, valuesOf(record.name));
        return envelope(200, { id: recordId });
      }
      return envelope(405, null, [{ code: 10405, message: "Method not allowed" }]);
    },
  });
  return {
    apiUrl: `http://127.0.0.1:${server.port}/client/v4`,
    zoneId,
    calls,
    created,
    records: () => [...held.values()].map(({ id, name, content }) => ({ id, name, content })),
    stop: () => server.stop(true),
  };
}

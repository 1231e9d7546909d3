// Limits, step 0: who is calling. The socket's address, or X-Forwarded-For when TRUST_PROXY says a proxy sets it.

/** The address of the socket a request arrived on (Bun's server.requestIP), or null when there is none (tests). */
export type PeerAddress = (request: Request) => string | null;

/** Used when there is no socket (app.handle in tests): all such requests share one budget. */
const UNKNOWN = "unknown";

/**
 * The client's address for rate limits and sign-in throttling. With `trustProxyHops` = N, the Nth entry from the
 * right of X-Forwarded-For is the address the outermost trusted proxy saw; entries left of it are the client's own
 * claims and are ignored (anyone can send the header). IPv6 clients are grouped by /64: one host usually has a
 * whole /64 to pick addresses from.
 */
export function clientAddress(
  request: Request,
  peer: PeerAddress | undefined,
  trustProxyHops: number,
): string {
  if (trustProxyHops > 0) {
    const forwarded = (request.headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const chosen = forwarded[Math.max(0, forwarded.length - trustProxyHops)];
    if (chosen) return normalizeAddress(chosen);
  }
  const socket = peer?.(request) ?? null;
  return socket ? normalizeAddress(socket) : UNKNOWN;
}

/** "::ffff:1.2.3.4" -> "1.2.3.4"; an IPv6 address -> its /64 prefix ("2001:db8:0:1::/64"); anything else as is. */
export function normalizeAddress(address: string): string {
  const value = address
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (mapped?.[1]) return mapped[1];
  if (!value.includes(":")) return value;
  const groups = expandIpv6(value);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : value;
}

/** The 8 groups of an IPv6 address (without leading zeros), or null when it is not one. */
function expandIpv6(value: string): string[] | null {
  const [address = ""] = value.split("%"); // drop a zone id ("fe80::1%eth0")
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(":") : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

// Where a git URL would connect: clones must not become a way to reach the platform's own network (the host's
// loopback, private and link-local addresses, cloud metadata), so a repository host that is, or resolves to, such
// an address is refused unless the operator allows it (MINIVERCEL_ALLOW_PRIVATE_GIT). This check gives a clear
// message early (API) and again before a clone (builder); a sandboxed clone's network enforces it regardless.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

const LOOKUP_TIMEOUT_MS = 3000;

/** The host a network git URL connects to (lowercase, IPv6 without brackets), or null for a local path. */
export function gitUrlHost(value: string): string | null {
  const scp = /^[^@/:]+@([^:/]+):/.exec(value);
  // scp-like `git@host:path` is ssh to `host`; parse it as one so numeric forms normalize the same way.
  const url = scp ? `ssh://${scp[1]}/` : value;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(parsed.protocol)) return null;
  return parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase() || null;
}

const V4_BLOCKED: [string, number, string][] = [
  ["0.0.0.0", 8, "a reserved address"],
  ["10.0.0.0", 8, "a private address"],
  ["100.64.0.0", 10, "a shared (carrier-grade NAT) address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["169.254.0.0", 16, "a link-local address (cloud metadata lives here)"],
  ["172.16.0.0", 12, "a private address"],
  ["192.0.0.0", 24, "a reserved address"],
  ["192.168.0.0", 16, "a private address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"],
];

const v4Number = (ip: string): number => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);

function v4Reason(ip: string): string | null {
  const value = v4Number(ip);
  for (const [network, bits, reason] of V4_BLOCKED) {
    const size = 2 ** (32 - bits);
    const start = v4Number(network);
    if (value >= start && value < start + size) return reason;
  }
  return null;
}

/** The 8 groups of an IPv6 address as numbers (with an embedded IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (tail) {
    const n = v4Number(tail);
    text = `${text.slice(0, -tail.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = rest === undefined || rest === "" ? [] : rest.split(":");
  const fill = rest === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g, 16));
}

function v6Reason(ip: string): string | null {
  const g = v6Groups(ip);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g6 = 0, h = 0] = g;
  if (g.every((x) => x === 0)) return "a reserved address";
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && g6 === 0 && h === 1)
    return "a loopback address";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside.
  const embedded = `${g6 >> 8}.${g6 & 255}.${h >> 8}.${h & 255}`;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) return v4Reason(embedded);
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return v4Reason(embedded);
  if ((a & 0xfe00) === 0xfc00) return "a private (unique local) address";
  if ((a & 0xffc0) === 0xfe80) return "a link-local address";
  if ((a & 0xff00) === 0xff00) return "a multicast address";
  return null;
}

/** Why an IP address is not one a clone may reach (loopback, private, link-local, ...), or null. */
export function blockedAddressReason(ip: string): string | null {
  switch (isIP(ip)) {
    case 4:
      return v4Reason(ip);
    case 6:
      return v6Reason(ip);
    default:
      return "not an IP address";
  }
}

/**
 * Why `url` may not be cloned from: its host is, or resolves to, an address of the platform's own network.
 * A host that does not resolve (yet) passes here; the clone reports it. Null for local paths and when allowed.
 */
export async function gitAddressProblem(url: string, allowPrivate: boolean): Promise<string | null> {
  if (allowPrivate) return null;
  const host = gitUrlHost(url);
  if (host === null) return null;
  const problem = await hostAddressProblem(host);
  return problem === null
    ? null
    : `${problem}; minivercel does not clone from its own network (an operator can allow it with MINIVERCEL_ALLOW_PRIVATE_GIT=1)`;
}

/**
 * Why connecting to `host` would reach the platform's own network: "host h[ resolves to a,] is <reason>", or null.
 * Checked after DNS, on every address the name has; outgoing webhooks use it too (src/deploy/hooks.ts).
 */
export async function hostAddressProblem(host: string): Promise<string | null> {
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  for (const address of addresses) {
    const reason = blockedAddressReason(address);
    if (reason === null) continue;
    const resolved = address === host ? "" : ` resolves to ${address},`;
    return `host ${host}${resolved} is ${reason}`;
  }
  return null;
}

/** Every address `host` resolves to now (none when it does not, or not within 3 s). */
export async function resolveAll(host: string): Promise<string[]> {
  const timeout = new Promise<[]>((resolve) => setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS).unref());
  const found = lookup(host, { all: true, verbatim: true }).then(
    (list) => list.map((entry) => entry.address),
    () => [],
  );
  return Promise.race([found, timeout]);
}

// Requests to addresses users give (outgoing webhooks, git provider APIs): the host's addresses are checked against
// the platform's own network (src/model/git-address.ts), and the connection goes to the address that was checked.
// Without the pin, fetch would resolve the name again, and a name that answers a public address to the check and
// a private one a moment later (DNS rebinding) would reach the platform's own network. HTTPS still verifies the
// certificate for the name (SNI and the name check use it), and the Host header carries the name.

import { isIP } from "node:net";
import { blockedAddressReason, resolveAll } from "../model/git-address.ts";

/** Resolves a name to its addresses (tests pass their own). */
export type Resolve = (host: string) => Promise<string[]>;

/** The address to connect to for `url`'s host, or why none may be used. */
export async function outboundAddress(
  url: URL,
  resolve: Resolve = resolveAll,
): Promise<{ address: string } | { problem: string }> {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) return { problem: `host ${host} does not resolve` };
  for (const address of addresses) {
    const reason = blockedAddressReason(address);
    if (reason !== null)
      return { problem: `host ${host}${address === host ? "" : ` resolves to ${address},`} is ${reason}` };
  }
  return { address: addresses[0] as string };
}

/** `url` fetched from `address`: the URL's name in the Host header and, over HTTPS, for SNI and the certificate. */
export function fetchAt(url: URL, address: string, init: RequestInit & { tls?: Record<string, unknown> }) {
  const pinned = new URL(url);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  const headers = new Headers(init.headers);
  headers.set("host", url.host);
  const name = url.hostname.replace(/^\[|\]$/g, "");
  const tls = url.protocol === "https:" && isIP(name) === 0 ? { ...init.tls, serverName: name } : init.tls;
  return fetch(pinned, { ...init, headers, ...(tls && { tls }) } as RequestInit);
}

/**
 * Fetches `url` unless its host is, or resolves to, the platform's own network (then throws with the reason);
 * `allowPrivate` (the operator's MINIVERCEL_ALLOW_PRIVATE_HOOKS) skips the check and the pin.
 */
export async function fetchOutbound(
  url: string,
  init: RequestInit,
  allowPrivate: boolean,
): Promise<Response> {
  if (allowPrivate) return fetch(url, init);
  const target = new URL(url);
  const picked = await outboundAddress(target);
  if ("problem" in picked) throw new Error(picked.problem);
  return fetchAt(target, picked.address, init);
}

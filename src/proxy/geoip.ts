// Countries of addresses, for analytics, from a CSV of address ranges read into memory at start
// (ANALYTICS_GEOIP_CSV): one `first,last,country` line per range, IPv4 and IPv6, the format of DB-IP's free
// "IP to Country Lite" file (CC BY 4.0, docs/configuration.md). Lookups are binary searches; nothing leaves the
// process, and the address itself is never kept.

import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";

export interface GeoIp {
  /** The ISO 3166 alpha-2 code of the range that holds `address`, or "" when none does. */
  country(address: string): string;
  /** Ranges loaded (for the start-up message). */
  readonly size: number;
}

/** "1.2.3.4" -> its 32-bit number; null when it is not a dotted IPv4 address. */
export function ipv4Number(address: string): number | null {
  const parts = address.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    n = n * 256 + byte;
  }
  return n;
}

/** An IPv6 address (with `::`, or an IPv4 tail) -> its 128-bit number; null when it is not one. */
export function ipv6Number(address: string): bigint | null {
  let value = address.toLowerCase().replace(/^\[|\]$/g, "");
  value = value.split("%")[0] ?? "";
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (v4?.[1] && v4[2]) {
    const n = ipv4Number(v4[2]);
    if (n === null) return null;
    value = `${v4[1]}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = value.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** Parses the CSV text; a line that is not a range is an error naming its number (a wrong file stops the start). */
export function parseGeoIp(csv: string): GeoIp {
  const v4: { first: number; last: number; country: string }[] = [];
  const v6: { first: bigint; last: bigint; country: string }[] = [];
  const lines = csv.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const [a = "", b = "", c = ""] = line.split(",").map((s) => s.trim().replace(/^"|"$/g, ""));
    const country = c.toUpperCase();
    if (!/^[A-Z]{2}$/.test(country))
      throw new Error(`line ${i + 1}: the third column must be a two-letter country code`);
    const first4 = ipv4Number(a);
    const last4 = ipv4Number(b);
    if (first4 !== null && last4 !== null && first4 <= last4) {
      v4.push({ first: first4, last: last4, country });
      continue;
    }
    const first6 = ipv6Number(a);
    const last6 = ipv6Number(b);
    if (first6 !== null && last6 !== null && first6 <= last6) {
      v6.push({ first: first6, last: last6, country });
      continue;
    }
    throw new Error(`line ${i + 1}: expected first-address,last-address,country`);
  }
  v4.sort((x, y) => x.first - y.first);
  v6.sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  function search<T extends number | bigint>(list: { first: T; last: T; country: string }[], n: T): string {
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const range = list[mid];
      if (!range) break;
      if (n < range.first) hi = mid - 1;
      else if (n > range.last) lo = mid + 1;
      else return range.country;
    }
    return "";
  }
  return {
    size: v4.length + v6.length,
    country(address) {
      const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
      const n4 = ipv4Number(mapped?.[1] ?? address);
      if (n4 !== null) return search(v4, n4);
      const n6 = ipv6Number(address);
      return n6 === null ? "" : search(v6, n6);
    },
  };
}

export function loadGeoIp(path: string): GeoIp {
  try {
    return parseGeoIp(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError("ANALYTICS_GEOIP_CSV", `${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

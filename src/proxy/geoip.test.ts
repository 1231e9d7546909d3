import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { tempDir } from "../testing/deps.ts";
import { ipv6Number, loadGeoIp, parseGeoIp } from "./geoip.ts";

const CSV = `# DB-IP lite layout
1.0.0.0,1.0.0.255,AU
"2.16.0.0","2.16.255.255","fr"
203.0.113.0,203.0.113.255,NZ
2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,DE
`;

test("finds the country of IPv4, mapped and IPv6 addresses; none outside the ranges", () => {
  const geo = parseGeoIp(CSV);
  expect(geo.size).toBe(4);
  expect(geo.country("1.0.0.7")).toBe("AU");
  expect(geo.country("2.16.200.1")).toBe("FR");
  expect(geo.country("::ffff:203.0.113.9")).toBe("NZ");
  expect(geo.country("2001:db8:1::42")).toBe("DE");
  expect(geo.country("9.9.9.9")).toBe("");
  expect(geo.country("2001:db9::1")).toBe("");
  expect(geo.country("not an address")).toBe("");
});

test("IPv6 forms parse to the same number", () => {
  expect(ipv6Number("2001:db8::1")).toBe(ipv6Number("2001:0db8:0:0:0:0:0:0001"));
  expect(ipv6Number("::ffff:1.2.3.4")).toBe(0xffff01020304n);
  expect(ipv6Number("1::2::3")).toBeNull();
});

test("a line that is not a range names its number", () => {
  expect(() => parseGeoIp("1.0.0.0,1.0.0.255,AU\nnonsense\n")).toThrow("line 2");
  expect(() => parseGeoIp("1.0.0.0,1.0.0.255,Australia\n")).toThrow("line 1");
});

test("a wrong file stops the start as a config error naming the variable and the line", () => {
  const path = join(tempDir(), "bad.csv");
  writeFileSync(path, "1.0.0.0,1.0.0.255,AU\n1.0.1.0,oops,CN\n");
  expect(() => loadGeoIp(path)).toThrow(ConfigError);
  expect(() => loadGeoIp(path)).toThrow("ANALYTICS_GEOIP_CSV");
  expect(() => loadGeoIp(path)).toThrow("line 2");
});

// Automatic HTTPS settings (src/config/config.ts): off by default, validated, each mistake named by its variable.

import { expect, test } from "bun:test";
import { type Env, loadConfig } from "../config/config.ts";
import { ConfigError } from "../errors.ts";
import { productionUrl } from "../model/urls.ts";

const ACME: Env = {
  BASE_DOMAIN: "example.com",
  ACME_DIRECTORY_URL: "https://acme-v02.api.letsencrypt.org/directory",
  ACME_EMAIL: "ops@example.com",
};

function refuses(env: Env, variable: string): void {
  let error: unknown = null;
  try {
    loadConfig(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toBe(variable);
}

test("HTTPS is off without ACME_DIRECTORY_URL, and on with sensible defaults with it", () => {
  expect(loadConfig({}).https).toBeNull();
  expect(loadConfig(ACME).https).toEqual({
    directoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
    email: "ops@example.com",
    port: 443,
    caFile: null,
    renewDays: 30,
    challenge: "http-01",
    dns: null,
    dnsWaitSeconds: 20,
    dashboardHost: "dashboard.example.com",
    dashboardUpstream: null,
  });
});

test("DNS-01 settings: httpreq and Cloudflare", () => {
  const httpreq = loadConfig({
    ...ACME,
    ACME_CHALLENGE: "dns-01",
    ACME_DNS_PROVIDER: "httpreq",
    ACME_DNS_HTTPREQ_URL: "https://dns-adapter.internal/",
  }).https;
  expect(httpreq?.dns).toEqual({
    kind: "httpreq",
    url: "https://dns-adapter.internal",
    username: null,
    password: null,
  });
  const cloudflare = loadConfig({
    ...ACME,
    ACME_DNS_PROVIDER: "cloudflare",
    CLOUDFLARE_API_TOKEN: "tok",
  }).https;
  expect(cloudflare?.dns).toMatchObject({ kind: "cloudflare", apiToken: "tok", zoneId: null });
});

test("bad HTTPS settings name their variable", () => {
  refuses({ ...ACME, ACME_DIRECTORY_URL: "http://acme.example.com/dir" }, "ACME_DIRECTORY_URL");
  refuses({ ...ACME, ACME_EMAIL: "" }, "ACME_EMAIL");
  refuses({ ...ACME, ACME_EMAIL: "not-an-address" }, "ACME_EMAIL");
  refuses({ ...ACME, BASE_DOMAIN: "localhost" }, "BASE_DOMAIN");
  refuses({ ...ACME, ACME_CA_FILE: "/nonexistent/ca.pem" }, "ACME_CA_FILE");
  refuses({ ...ACME, ACME_RENEW_DAYS: "90" }, "ACME_RENEW_DAYS");
  refuses({ ...ACME, ACME_CHALLENGE: "tls-alpn-01" }, "ACME_CHALLENGE");
  refuses({ ...ACME, ACME_CHALLENGE: "dns-01" }, "ACME_DNS_PROVIDER");
  refuses({ ...ACME, ACME_DNS_PROVIDER: "route53" }, "ACME_DNS_PROVIDER");
  refuses({ ...ACME, ACME_DNS_PROVIDER: "httpreq" }, "ACME_DNS_HTTPREQ_URL");
  refuses(
    {
      ...ACME,
      ACME_DNS_PROVIDER: "httpreq",
      ACME_DNS_HTTPREQ_URL: "http://x",
      ACME_DNS_HTTPREQ_USERNAME: "u",
    },
    "ACME_DNS_HTTPREQ_USERNAME",
  );
  refuses({ ...ACME, ACME_DNS_PROVIDER: "cloudflare" }, "CLOUDFLARE_API_TOKEN");
  refuses({ ...ACME, DASHBOARD_HOST: "bad_host!" }, "DASHBOARD_HOST");
  refuses({ ...ACME, HTTPS_PORT: "8001" }, "HTTPS_PORT");
  refuses({ ...ACME, DASHBOARD_UPSTREAM: "ftp://api" }, "DASHBOARD_UPSTREAM");
});

test("with HTTPS on, site URLs are https (the port only when it is not 443)", () => {
  const config = loadConfig({ ...ACME, PROXY_PORT: "80" });
  expect(productionUrl({ subDomain: "blog" }, config)).toBe("https://blog.example.com");
  const custom = loadConfig({ ...ACME, HTTPS_PORT: "8443" });
  expect(productionUrl({ subDomain: "blog" }, custom)).toBe("https://blog.example.com:8443");
  expect(productionUrl({ subDomain: "blog" }, loadConfig({}))).toBe("http://blog.localhost:8001");
});

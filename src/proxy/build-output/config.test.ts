import { describe, expect, test } from "bun:test";
import { type BuildOutputConfig, parseBuildOutputConfig, type SourceRoute } from "./config.ts";

const parse = (config: unknown) => parseBuildOutputConfig(JSON.stringify(config));
const errors = (config: unknown) =>
  parse(config)
    .problems.filter((p) => p.severity === "error")
    .map((p) => p.message);

function accepted(config: unknown): BuildOutputConfig {
  const { config: parsed, problems } = parse(config);
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  if (!parsed) throw new Error("refused");
  return parsed;
}

const source = (config: BuildOutputConfig, i: number) => config.routes[i] as SourceRoute;

describe("parseBuildOutputConfig: the file itself", () => {
  test("not JSON, not an object, or another version is refused", () => {
    expect(parseBuildOutputConfig("{").problems[0]?.message).toMatch(/not valid JSON/);
    expect(parseBuildOutputConfig("[]").problems[0]?.message).toMatch(/"version": 3/);
    expect(errors({ version: 2 })).toEqual(['config.json must have "version": 3']);
    expect(parseBuildOutputConfig("x".repeat(4 * 1024 * 1024 + 1)).problems[0]?.message).toMatch(
      /larger than/,
    );
  });

  test("the smallest config has no routes", () => {
    expect(accepted({ version: 3 })).toEqual({ version: 3, routes: [] });
  });

  test("a refused config comes back null, with every problem listed", () => {
    const { config, problems } = parse({
      version: 3,
      routes: [{ src: "/", locale: {} }],
      wildcard: [{ domain: "a", value: "b" }],
    });
    expect(config).toBeNull();
    expect(problems.map((p) => p.message)).toEqual([
      "routes[0].locale: locale redirects are not supported",
      "wildcard: wildcard domains are not supported",
    ]);
  });
});

describe("parseBuildOutputConfig: top-level fields", () => {
  test("accepted without a word: framework, cache, empty wildcard and overrides", () => {
    const { problems } = parse({
      version: 3,
      framework: { version: "2.70.4", slug: "sveltekit" },
      cache: [".next/cache/**"],
      wildcard: [],
      overrides: {},
    });
    expect(problems).toEqual([]);
  });

  test("images: accepted with a warning that originals are served", () => {
    const { config, problems } = parse({ version: 3, images: { sizes: [640, 1080], domains: [] } });
    expect(config?.images?.sizes).toEqual([640, 1080]);
    expect(problems).toEqual([
      {
        severity: "warning",
        message:
          "images: /_vercel/image serves the original local image, not resized or converted (no optimizer); remote images are refused",
      },
    ]);
    expect(errors({ version: 3, images: { domains: [] } })[0]).toMatch(/^images\.sizes: /);
  });

  test("deploymentId and flags: ignored with a warning", () => {
    const { config, problems } = parse({ version: 3, deploymentId: "abc", flags: { definitions: {} } });
    expect(config).not.toBeNull();
    expect(problems.map((p) => [p.severity, p.message.split(":")[0]])).toEqual([
      ["warning", "deploymentId"],
      ["warning", "flags"],
    ]);
  });

  const refused: [string, unknown, string][] = [
    ["wildcard domains", [{ domain: "x.com", value: "en" }], "wildcard: wildcard domains are not supported"],
    ["services", [{ name: "api" }], "services: multi-service deployments are not supported"],
    ["experimentalServices", {}, "experimentalServices: multi-service deployments are not supported"],
    ["somethingNew", true, "somethingNew: unknown field"],
    ["cache", "x", "cache: must be an array of strings"],
  ];
  for (const [field, value, message] of refused) {
    test(`${field} is refused`, () => {
      const name = field === "wildcard domains" ? "wildcard" : field;
      expect(errors({ version: 3, [name]: value })).toEqual([message]);
    });
  }

  test("crons are parsed and exposed for the runtime", () => {
    const config = accepted({ version: 3, crons: [{ path: "/api/cron", schedule: " 0 5 * * 1-5 " }] });
    expect(config.crons).toEqual([{ path: "/api/cron", schedule: "0 5 * * 1-5" }]);
    expect(errors({ version: 3, crons: [{ path: "api/cron", schedule: "*/5 * * * *" }] })).toEqual([
      "crons[0].path: must start with /",
    ]);
    expect(errors({ version: 3, crons: [{ path: "/a", schedule: "61 * * * *" }] })).toEqual([
      'crons[0].schedule: the minute field "61" is outside 0-59',
    ]);
    expect(errors({ version: 3, crons: [{ path: "/a", schedule: "@daily" }] })[0]).toMatch(
      /must have five fields/,
    );
    expect(errors({ version: 3, crons: [{ path: "/a", schedule: "0 5-3 * * *" }] })[0]).toMatch(
      /outside 0-23/,
    );
    expect(
      accepted({ version: 3, crons: [{ path: "/a", schedule: "*/15 0-23/2 1,15 * 7" }] }).crons,
    ).toHaveLength(1);
    expect(errors({ version: 3, crons: [{ path: "/a" }] })[0]).toMatch(/^crons\[0\]/);
  });

  test("overrides: keyed by manifest path, the URL path absolute ('' is the root)", () => {
    const config = accepted({
      version: 3,
      overrides: {
        "about.html": { path: "about" },
        "index.html": { path: "" },
        feed: { contentType: "application/rss+xml; charset=utf-8" },
      },
    });
    expect(config.overrides).toEqual({
      "/about.html": { path: "/about" },
      "/index.html": { path: "/" },
      "/feed": { contentType: "application/rss+xml; charset=utf-8" },
    });
    expect(errors({ version: 3, overrides: { "../x": { path: "x" } } })).toEqual([
      'overrides["../x"]: not a file path',
    ]);
    expect(errors({ version: 3, overrides: { a: { contentType: "text html" } } })).toEqual([
      'overrides["a"].contentType: "text html" is not a media type',
    ]);
    expect(errors({ version: 3, overrides: { a: { path: "a//b" } } })).toEqual([
      'overrides["a"].path: not a URL path',
    ]);
  });
});

describe("parseBuildOutputConfig: routes are normalized", () => {
  test("src is anchored as Vercel anchors it, dest made absolute, names and methods normalized", () => {
    const config = accepted({
      version: 3,
      routes: [
        { src: "/about", dest: "_render", headers: { "X-Frame-Options": "DENY" }, methods: ["get", "Post"] },
        { src: "^/x", has: [{ type: "header", key: "X-Token" }] },
        { src: ".*$", continue: true },
      ],
    });
    expect(config.routes[0]).toEqual({
      src: "^/about$",
      dest: "/_render",
      headers: { "x-frame-options": "DENY" },
      methods: ["GET", "POST"],
      continue: false,
      caseSensitive: false,
      check: false,
      has: [],
      missing: [],
      transforms: [],
      important: false,
      override: false,
    });
    expect(source(config, 1).src).toBe("^/x$");
    expect(source(config, 1).has).toEqual([{ type: "header", key: "x-token" }]);
    expect(source(config, 2).src).toBe("^.*$");
  });

  test("routing-utils' aliases: source, destination, statusCode", () => {
    const config = accepted({ version: 3, routes: [{ source: "/a", destination: "/b", statusCode: 307 }] });
    expect(source(config, 0)).toMatchObject({ src: "^/a$", dest: "/b", status: 307 });
    expect(errors({ version: 3, routes: [{ src: "/a", source: "/a" }] })).toEqual([
      "routes[0].source: both src and source are set",
    ]);
  });

  test("handle markers stay in place; a redirect to another origin is fine", () => {
    const config = accepted({
      version: 3,
      routes: [
        { src: "/docs", status: 308, headers: { Location: "https://docs.example.com/" } },
        { handle: "filesystem" },
      ],
    });
    expect(config.routes[1]).toEqual({ handle: "filesystem" });
    expect(
      accepted({ version: 3, routes: [{ src: "/x", dest: "https://example.com/$1", status: 301 }] }).routes,
    ).toHaveLength(1);
  });
});

describe("parseBuildOutputConfig: what routes cannot ask for, refused by name", () => {
  const refused: [string, unknown, string][] = [
    [
      "edge middleware",
      { src: "/.*", middlewarePath: "_middleware", continue: true },
      "routes[0].middlewarePath: edge middleware is not supported",
    ],
    [
      "middleware matchers",
      { src: "/.*", middlewareRawSrc: ["/"] },
      "routes[0].middlewarePath: edge middleware is not supported",
    ],
    [
      "locale",
      { src: "/", locale: { redirect: { fr: "/fr" } } },
      "routes[0].locale: locale redirects are not supported",
    ],
    [
      "mitigate",
      { src: "/", mitigate: { action: "deny" } },
      "routes[0].mitigate: firewall mitigations (challenge, deny) are not supported",
    ],
    [
      "env",
      { src: "/", dest: "/$API", env: ["API"] },
      "routes[0].env: environment variables in dest and headers are not supported",
    ],
    [
      "transform env",
      {
        src: "/",
        transforms: [{ type: "request.headers", op: "set", target: { key: "x" }, args: "$A", env: ["A"] }],
      },
      "routes[0].transforms[0].env: environment variables in transforms are not supported",
    ],
    [
      "transform without target",
      { src: "/", transforms: [{ type: "request.query", op: "delete" }] },
      "routes[0].transforms[0].target: required for request.query",
    ],
    [
      "service destination",
      { src: "/api", destination: { service: "api" } },
      "routes[0].destination: service destinations are not supported",
    ],
    [
      "external rewrite",
      { src: "/p/(.*)", dest: "https://upstream.example.com/$1" },
      "routes[0].dest: external rewrites (proxying to https://upstream.example.com/$1) are not supported; redirect instead",
    ],
    ["backreference", { src: "/(a)\\1" }, "routes[0].src: backreferences are not supported"],
    ["PCRE escape", { src: "\\A/x" }, "routes[0].src: unsupported escape \\A"],
    [
      "has regex",
      { src: "/", has: [{ type: "query", key: "a", value: "(?<=x)y" }] },
      "routes[0].has[0].value: lookbehind is not supported",
    ],
    [
      "header name",
      { src: "/", headers: { "bad name": "x" } },
      'routes[0].headers: "bad name" is not a header name',
    ],
    [
      "header value",
      { src: "/", headers: { x: "a\nb" } },
      "routes[0].headers: the value of x has control characters",
    ],
    ["status", { src: "/", status: 101 }, "routes[0].status: 101 is not a final status"],
    ["unknown field", { src: "/", destiny: "/x" }, "routes[0].destiny: Unexpected property"],
    ["bad type", { src: 1 }, "routes[0].src: Expected string"],
  ];
  for (const [what, route, message] of refused) {
    test(what, () => expect(errors({ version: 3, routes: [route] })).toEqual([message]));
  }

  test("phase rules: one handle of each kind, plain handles, headers only after hit", () => {
    expect(errors({ version: 3, routes: [{ handle: "filesystem" }, { handle: "filesystem" }] })).toEqual([
      'routes[1]: a second { "handle": "filesystem" }',
    ]);
    expect(errors({ version: 3, routes: [{ handle: "miss", src: "/x" }] })).toEqual([
      "routes[0]: a handle route with src, dest or status is not supported",
    ]);
    expect(errors({ version: 3, routes: [{ handle: "hit" }, { src: "/x", dest: "/y" }] })).toEqual([
      'routes[1].dest: not allowed after { "handle": "hit" } (headers only)',
    ]);
    expect(errors({ version: 3, routes: [{ handle: "later" }] })[0]).toMatch(/^routes\[0\]\.handle: /);
    expect(errors({ version: 3, routes: {} })).toEqual(["routes: must be an array"]);
    expect(errors({ version: 3, routes: Array(4097).fill({ src: "/" }) })).toEqual([
      "routes: 4097 routes, at most 4096",
    ]);
  });
});

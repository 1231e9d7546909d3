// Deploy rules: project names and domains, the status state machine, and settings validation.

import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import type { ProjectSettings } from "./entities.ts";
import { domainProblem, MAX_SUBDOMAIN, slugify, subdomainProblem } from "./names.ts";
import { branchProblem, commitProblem, gitUrlProblem, normalizeSettings, withDefaults } from "./settings.ts";
import {
  canTransition,
  type DeploymentStatus,
  isStatus,
  isTerminal,
  predecessors,
  STATUSES,
} from "./status.ts";

describe("subdomainProblem", () => {
  test("accepts plain DNS labels", () => {
    for (const ok of ["docs-site", "a", "x1", "1x", "my-team-2024", "a".repeat(MAX_SUBDOMAIN)]) {
      expect({ ok, problem: subdomainProblem(ok) }).toEqual({ ok, problem: null });
    }
  });

  test("refuses each rule with a reason", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["a".repeat(49), /at most 48/],
      ["MySite", /lower case/],
      ["-site", /start and end/],
      ["site-", /start and end/],
      ["my_site", /a-z, 0-9/],
      ["my.site", /a-z, 0-9/],
      ["my site", /a-z, 0-9/],
      ["café", /a-z, 0-9/],
      ["a--b", /'--'/],
      ["api", /reserved/],
      ["www", /reserved/],
      ["dashboard", /reserved/],
      ["localhost", /reserved/],
    ];
    for (const [value, reason] of cases) {
      const problem = subdomainProblem(value);
      expect({ value, problem }).toEqual({ value, problem: expect.stringMatching(reason) });
    }
  });

  test("48 is the limit so '--<id>' deployment hosts still fit in one 63-byte label", () => {
    expect(MAX_SUBDOMAIN).toBe(48);
    expect(subdomainProblem("a".repeat(48))).toBeNull();
    expect(subdomainProblem("a".repeat(49))).not.toBeNull();
    expect(`${"a".repeat(48)}--${"0".repeat(12)}`.length).toBeLessThanOrEqual(63);
  });
});

describe("slugify", () => {
  test("turns display names into valid subdomains", () => {
    const cases: [string, string][] = [
      ["My Site!", "my-site"],
      ["  Hello   World  ", "hello-world"],
      ["--already--dashed--", "already-dashed"],
      ["Café Déjà Vu", "cafe-deja-vu"],
      ["a_b.c/d", "a-b-c-d"],
      ["Release 2.0", "release-2-0"],
      ["!!!", ""],
      ["日本語", ""],
    ];
    for (const [name, slug] of cases) expect({ name, slug: slugify(name) }).toEqual({ name, slug });
  });

  test("cuts at the limit without leaving a trailing dash", () => {
    expect(slugify("a".repeat(60))).toBe("a".repeat(48));
    // The cut falls right after the dash: it must be dropped, not kept as the last character.
    expect(slugify(`${"a".repeat(47)} bcdef`)).toBe("a".repeat(47));
    for (const name of ["Some Quite Long Project Name For The Marketing Team 2024", `${"x".repeat(47)}!y`]) {
      const slug = slugify(name);
      expect({ slug, problem: subdomainProblem(slug) }).toEqual({ slug, problem: null });
    }
  });
});

describe("domainProblem", () => {
  test("accepts fully qualified hosts outside the platform domain", () => {
    for (const host of ["www.example.com", "example.org", "a-b.c-d.example", "notlocalhost.dev"]) {
      expect({ host, problem: domainProblem(host, "localhost") }).toEqual({ host, problem: null });
    }
    // Only a real label boundary counts as "under" the base domain.
    expect(domainProblem("notexample.com", "example.com")).toBeNull();
  });

  test("refuses bad hosts", () => {
    const cases: [string, string, RegExp][] = [
      ["nodot", "localhost", /fully qualified/],
      ["WWW.example.com", "localhost", /lower case/],
      ["a..example.com", "localhost", /invalid label ''/],
      ["-a.example.com", "localhost", /invalid label '-a'/],
      ["a_b.example.com", "localhost", /invalid label/],
      [`${"a".repeat(64)}.com`, "localhost", /invalid label/],
      [`${"a.".repeat(127)}com`, "localhost", /253/],
      ["site.localhost", "localhost", /platform domain/],
      ["example.com", "example.com", /platform domain/],
      ["x.sites.example.com", "sites.example.com", /platform domain/],
    ];
    for (const [host, base, reason] of cases) {
      const problem = domainProblem(host, base);
      expect({ host, problem }).toEqual({ host, problem: expect.stringMatching(reason) });
    }
  });
});

describe("status state machine", () => {
  // The legal moves, spelled out: everything else must be refused.
  const LEGAL = new Set([
    "NOT_STARTED>QUEUED",
    "QUEUED>IN_PROGRESS",
    "NOT_STARTED>IN_PROGRESS",
    "IN_PROGRESS>READY",
    "NOT_STARTED>FAIL",
    "QUEUED>FAIL",
    "IN_PROGRESS>FAIL",
    "NOT_STARTED>CANCELED",
    "QUEUED>CANCELED",
    "IN_PROGRESS>CANCELED",
  ]);
  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));

  test("all six statuses, three terminal", () => {
    expect([...STATUSES]).toEqual(["NOT_STARTED", "QUEUED", "IN_PROGRESS", "READY", "FAIL", "CANCELED"]);
    expect(STATUSES.filter(isTerminal)).toEqual(["READY", "FAIL", "CANCELED"]);
  });

  test("every one of the 36 pairs is legal exactly when listed", () => {
    expect(pairs).toHaveLength(36);
    for (const [from, to] of pairs) {
      const legal = LEGAL.has(`${from}>${to}`);
      expect({ from, to, legal: canTransition(from, to) }).toEqual({ from, to, legal });
    }
  });

  test("terminal states never change, not even to themselves", () => {
    for (const from of STATUSES.filter(isTerminal)) {
      for (const to of STATUSES)
        expect({ from, to, ok: canTransition(from, to) }).toEqual({ from, to, ok: false });
    }
  });

  test("nothing moves backward or stays put", () => {
    // Lifecycle rank: the three terminal states share the last rank.
    const rank: Record<DeploymentStatus, number> = {
      NOT_STARTED: 0,
      QUEUED: 1,
      IN_PROGRESS: 2,
      READY: 3,
      FAIL: 3,
      CANCELED: 3,
    };
    for (const [from, to] of pairs) {
      if (canTransition(from, to))
        expect({ from, to, forward: rank[to] > rank[from] }).toEqual({ from, to, forward: true });
    }
  });

  test("a build can only succeed after it ran", () => {
    expect(canTransition("QUEUED", "READY")).toBe(false);
    expect(canTransition("NOT_STARTED", "READY")).toBe(false);
  });

  test("predecessors is the compare-and-set guard matching canTransition", () => {
    for (const to of STATUSES) {
      expect([...predecessors(to)].sort()).toEqual(STATUSES.filter((from) => canTransition(from, to)).sort());
    }
    expect(predecessors("NOT_STARTED")).toEqual([]);
  });

  test("isStatus narrows strings", () => {
    for (const s of STATUSES) expect(isStatus(s)).toBe(true);
    for (const s of ["", "ready", "DONE", "QUEUED "]) expect(isStatus(s)).toBe(false);
  });
});

describe("gitUrlProblem", () => {
  test("accepts remote URLs in every git form", () => {
    for (const url of [
      "https://github.com/team/site.git",
      "http://git.internal:8080/team/site",
      "ssh://git@github.com/team/site.git",
      "ssh://git@github.com:2222/team/site.git",
      "git://git.example.com/site.git",
      "git@github.com:team/site.git",
      "git@gitlab.example.com:group/sub/site",
    ]) {
      expect({ url, problem: gitUrlProblem(url, false) }).toEqual({ url, problem: null });
    }
  });

  test("local repositories only when allowed", () => {
    for (const url of ["file:///srv/repos/site.git", "/srv/repos/site.git"]) {
      expect(gitUrlProblem(url, false)).not.toBeNull();
      expect(gitUrlProblem(url, true)).toBeNull();
    }
    expect(gitUrlProblem("relative/path", true)).not.toBeNull();
  });

  test("refuses option injection, spaces, control characters and other transports", () => {
    const cases: [string, RegExp][] = [
      ["--upload-pack=touch /tmp/x", /spaces/],
      ["--upload-pack=evil", /start with '-'/],
      ["-uhttps://x", /start with '-'/],
      ["ssh://-oProxyCommand=evil/x", /'-'/],
      ["git@-oProxyCommand:x/y", /URL/],
      ["https://github.com/a b", /spaces/],
      [" https://github.com/a", /spaces/],
      ["https://github.com/a\n", /control/],
      ["https://github.com/a\u0000", /control/],
      ["ftp://example.com/x", /URL/],
      ["ext::sh", /URL/],
      ["github.com/team/site", /URL/],
      ["git@github.com:team/site;rm", /URL/],
      [`https://e.com/${"x".repeat(2048)}`, /2048/],
    ];
    for (const [url, reason] of cases) {
      for (const allowLocal of [false, true]) {
        const problem = gitUrlProblem(url, allowLocal);
        expect({ url, allowLocal, problem }).toEqual({
          url,
          allowLocal,
          problem: expect.stringMatching(reason),
        });
      }
    }
  });
});

describe("branchProblem and commitProblem", () => {
  test("branches", () => {
    for (const ok of ["main", "feature/x", "release-1.2", "user+fix", "v1_2"])
      expect(branchProblem(ok)).toBeNull();
    for (const bad of [
      "",
      "x".repeat(256),
      "-main",
      "/main",
      "main/",
      "main.lock",
      "a..b",
      "a//b",
      "a/.b",
      "a b",
      "a~1",
      "a^",
      "a:b",
      "a@{1}",
      "a\\b",
      "ä",
    ]) {
      expect({ bad, problem: branchProblem(bad) }).toEqual({ bad, problem: expect.any(String) });
    }
    expect(branchProblem("x".repeat(255))).toBeNull();
  });

  test("commits", () => {
    for (const ok of ["abc1234", "0".repeat(40), "deadbeefcafe"]) expect(commitProblem(ok)).toBeNull();
    for (const bad of ["abc123", "0".repeat(41), "ABCDEF1", "g123456", "", "abc1234 "]) {
      expect({ bad, problem: commitProblem(bad) }).toEqual({ bad, problem: expect.any(String) });
    }
  });
});

describe("normalizeSettings", () => {
  const rules = { baseDomain: "localhost", sitesDomain: "localhost", allowLocalGit: false };

  /** Runs normalizeSettings expecting a validation error on `field`. */
  function rejects(input: Partial<ProjectSettings>, mode: "create" | "update", field: string) {
    let caught: unknown;
    try {
      normalizeSettings(input, rules, mode);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect({ input, error: caught }).toMatchObject({ input, error: { code: "validation_failed", field } });
  }

  test("create derives the subdomain from the name and fills defaults", () => {
    const settings = normalizeSettings({ name: "  My Site  " }, rules, "create");
    expect(settings).toEqual({ name: "My Site", subDomain: "my-site" });
    expect(withDefaults(settings)).toEqual({
      name: "My Site",
      subDomain: "my-site",
      gitUrl: null,
      customDomain: null,
      productionBranch: "main",
      rootDirectory: null,
      installCommand: null,
      buildCommand: null,
      outputDirectory: null,
      buildTimeoutSeconds: null,
      spaFallback: true,
      startCommand: null,
      idleTimeoutMinutes: null,
      maxInstances: null,
    });
    // A name with nothing to slug still gets a usable subdomain.
    expect(normalizeSettings({ name: "!!!" }, rules, "create").subDomain).toBe("site");
    // An explicit subdomain wins over the name.
    expect(normalizeSettings({ name: "My Site", subDomain: "other" }, rules, "create").subDomain).toBe(
      "other",
    );
  });

  test("create requires a name", () => {
    rejects({}, "create", "name");
    rejects({ subDomain: "ok" }, "create", "name");
    rejects({ name: "   " }, "create", "name");
  });

  test("create normalizes every field", () => {
    const settings = normalizeSettings(
      {
        name: "Docs",
        subDomain: "docs-1",
        gitUrl: "https://github.com/team/docs.git",
        customDomain: " docs.example.com. ",
        productionBranch: "release/1.x",
        rootDirectory: "./apps/docs/",
        outputDirectory: "dist",
        installCommand: "  npm ci  ",
        buildCommand: "",
        buildTimeoutSeconds: 600,
      },
      rules,
      "create",
    );
    expect(settings).toEqual({
      name: "Docs",
      subDomain: "docs-1",
      gitUrl: "https://github.com/team/docs.git",
      customDomain: "docs.example.com",
      productionBranch: "release/1.x",
      rootDirectory: "apps/docs",
      outputDirectory: "dist",
      installCommand: "npm ci",
      buildCommand: null,
      buildTimeoutSeconds: 600,
    });
  });

  test("an update touches only the fields it names", () => {
    expect(normalizeSettings({ name: "Renamed" }, rules, "update")).toEqual({ name: "Renamed" });
    expect(normalizeSettings({ buildCommand: "make" }, rules, "update")).toEqual({ buildCommand: "make" });
    expect(normalizeSettings({}, rules, "update")).toEqual({});
  });

  test("an update can clear optional fields", () => {
    expect(
      normalizeSettings(
        {
          gitUrl: "",
          customDomain: null,
          outputDirectory: ".",
          installCommand: null,
          buildTimeoutSeconds: null,
        },
        rules,
        "update",
      ),
    ).toEqual({
      gitUrl: null,
      customDomain: null,
      outputDirectory: null,
      installCommand: null,
      buildTimeoutSeconds: null,
    });
  });

  test("local git URLs follow the rule", () => {
    rejects({ gitUrl: "file:///srv/site" }, "update", "gitUrl");
    expect(
      normalizeSettings({ gitUrl: "file:///srv/site" }, { ...rules, allowLocalGit: true }, "update"),
    ).toEqual({ gitUrl: "file:///srv/site" });
  });

  test("bad fields are refused with the field named", () => {
    const cases: [Partial<ProjectSettings>, string][] = [
      [{ name: "x".repeat(101) }, "name"],
      [{ name: "tab\there" }, "name"],
      [{ subDomain: "API" }, "subDomain"],
      [{ subDomain: "www" }, "subDomain"],
      [{ gitUrl: "--upload-pack=evil" }, "gitUrl"],
      [{ customDomain: "site.localhost" }, "customDomain"],
      [{ customDomain: "nodot" }, "customDomain"],
      [{ productionBranch: "../main" }, "productionBranch"],
      [{ rootDirectory: "/etc" }, "rootDirectory"],
      [{ rootDirectory: "a/../../b" }, "rootDirectory"],
      [{ outputDirectory: "..\\x" }, "outputDirectory"],
      [{ outputDirectory: "a//b" }, "outputDirectory"],
      [{ installCommand: "npm ci\nrm -rf /" }, "installCommand"],
      [{ buildCommand: "x".repeat(1001) }, "buildCommand"],
      [{ buildTimeoutSeconds: 9 }, "buildTimeoutSeconds"],
      [{ buildTimeoutSeconds: 21601 }, "buildTimeoutSeconds"],
      [{ buildTimeoutSeconds: 60.5 }, "buildTimeoutSeconds"],
    ];
    for (const [input, field] of cases) {
      rejects(input, "update", field);
      rejects({ name: "ok", subDomain: "ok-site", ...input }, "create", field);
    }
  });
});

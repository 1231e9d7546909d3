// Commit links on git hosts: the URL forms each host uses, and nothing for hosts without a known page.

import { expect, test } from "bun:test";
import { commitUrl } from "./commit-links.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

test("GitHub, GitLab and Bitbucket, over https and ssh, with or without .git", () => {
  expect(commitUrl("https://github.com/acme/site.git", SHA)).toBe(
    `https://github.com/acme/site/commit/${SHA}`,
  );
  expect(commitUrl("https://github.com/acme/site", SHA)).toBe(`https://github.com/acme/site/commit/${SHA}`);
  expect(commitUrl("git@github.com:acme/site.git", SHA)).toBe(`https://github.com/acme/site/commit/${SHA}`);
  expect(commitUrl("ssh://git@github.com/acme/site.git", SHA)).toBe(
    `https://github.com/acme/site/commit/${SHA}`,
  );
  expect(commitUrl("https://gitlab.com/group/sub/site.git", SHA)).toBe(
    `https://gitlab.com/group/sub/site/-/commit/${SHA}`,
  );
  expect(commitUrl("git@gitlab.com:group/site.git", SHA)).toBe(
    `https://gitlab.com/group/site/-/commit/${SHA}`,
  );
  expect(commitUrl("https://bitbucket.org/team/site.git", SHA)).toBe(
    `https://bitbucket.org/team/site/commits/${SHA}`,
  );
  expect(commitUrl("https://user@bitbucket.org/team/site.git", SHA)).toBe(
    `https://bitbucket.org/team/site/commits/${SHA}`,
  );
});

test("no link for local paths, push remotes, other hosts, odd paths or no commit", () => {
  for (const url of [
    "file:///srv/repos/site.git",
    "/srv/repos/site.git",
    "http://localhost:9000/git/site.git",
    "https://git.example.com/acme/site.git",
    "https://github.com/acme",
    "https://github.com/acme/site/extra",
    "https://github.com/acme/../site",
    "https://github.com/acme/site?x=1",
    "javascript:alert(1)//github.com/a/b",
  ])
    expect({ url, link: commitUrl(url, SHA) }).toEqual({ url, link: null });
  expect(commitUrl("https://github.com/acme/site.git", null)).toBeNull();
  expect(commitUrl(null, SHA)).toBeNull();
  expect(commitUrl("https://github.com/acme/site.git", "not-a-sha")).toBeNull();
});

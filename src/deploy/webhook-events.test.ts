// Which repository a delivery is about: URL forms of one repository compare equal, others do not.

import { expect, test } from "bun:test";
import { namesRepository, repositoryKey } from "./webhook-events.ts";

test.each([
  ["https://github.com/octo/site.git", "github.com/octo/site"],
  ["https://github.com/Octo/Site/", "github.com/octo/site"],
  ["https://user:token@github.com:443/octo/site.git", "github.com/octo/site"],
  ["git@github.com:octo/site.git", "github.com/octo/site"],
  ["ssh://git@github.com:22/octo/site.git", "github.com/octo/site"],
  ["git://github.com/octo/site.git", "github.com/octo/site"],
  ["https://gitlab.com/group/sub/site.git", "gitlab.com/group/sub/site"],
  ["file:///srv/repos/site.git", null],
  ["/srv/repos/site.git", null],
  ["https://github.com/", null],
  ["not a url", null],
])("%s -> %s", (url, key) => {
  expect(repositoryKey(url)).toBe(key);
});

test("a delivery names the project's repository when one of its URLs does", () => {
  const urls = ["https://github.com/octo/site.git", "git@github.com:octo/site.git"];
  expect(namesRepository("https://github.com/octo/site", urls)).toBe(true);
  expect(namesRepository("https://github.com/octo/site-v2", urls)).toBe(false);
  expect(namesRepository("https://gitlab.com/octo/site", urls)).toBe(false);
  expect(namesRepository("https://github.com/octo/site", [])).toBe(false);
  // A project on a local path matches no delivery.
  expect(namesRepository("file:///srv/site.git", ["file:///srv/site.git"])).toBe(false);
});

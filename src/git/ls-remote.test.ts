// Reading a repository's branches before creating a project: real repositories, the URL rules, hostile input.

import { expect, test } from "bun:test";
import { fixtureRepo } from "../testing/repos.ts";
import { branchHead, listBranches } from "./ls-remote.ts";

const local = { allowLocal: true, allowPrivate: false };

test("lists the branches, the default one first, and names it", async () => {
  const repo = fixtureRepo({ "index.html": "hi" }, "trunk");
  repo.commit({ "a.txt": "a" }, "feature/login");
  repo.commit({ "b.txt": "b" }, "alpha");
  repo.commit({ "c.txt": "c" }, "trunk");
  const found = await listBranches(repo.url, local);
  expect(found).toEqual({ ok: true, branches: ["trunk", "alpha", "feature/login"], defaultBranch: "trunk" });
});

test("the URL rules of every git URL apply before anything runs", async () => {
  const repo = fixtureRepo({ "index.html": "hi" });
  const refused = async (url: string, options = local) => {
    const result = await listBranches(url, options);
    return result.ok ? "listed" : result.problem;
  };
  // Local paths only where the operator allows them.
  expect(await refused(repo.url, { allowLocal: false, allowPrivate: false })).not.toBe("listed");
  // Nothing git could read as an option.
  expect(await refused("--upload-pack=touch")).toContain("must not start with '-'");
  // No host of the platform's own network (loopback, private ranges, link-local metadata).
  for (const url of [
    "http://127.0.0.1:9000/x.git",
    "https://10.0.0.5/x.git",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost/x.git",
  ])
    expect({ url, problem: await refused(url) }).toEqual({
      url,
      problem: expect.stringContaining("does not clone from its own network"),
    });
  expect(await refused("ftp://example.com/x.git")).not.toBe("listed");
});

test("a repository that cannot be read says why, in one line", async () => {
  const result = await listBranches("file:///nonexistent/repo.git", local);
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.problem).toStartWith("could not be read: ");
    expect(result.problem).not.toContain("\n");
  }
});

test("branchHead: the commit a branch points at, null for a missing branch or a refused URL", async () => {
  const repo = fixtureRepo({ "index.html": "hi" });
  const sha = repo.commit({ "a.txt": "a" }, "feature");
  expect(await branchHead(repo.url, "feature", local)).toBe(sha);
  expect(await branchHead(repo.url, "missing", local)).toBeNull();
  expect(await branchHead(repo.url, "feature", { allowLocal: false, allowPrivate: false })).toBeNull();
  expect(await branchHead("http://127.0.0.1:9/x.git", "main", local)).toBeNull();
});

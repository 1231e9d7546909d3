// The clone step's commit details: the subject line and author the dashboard shows, read from the checkout.

import { expect, test } from "bun:test";
import { tempDir } from "../src/testing/deps.ts";
import { fixtureRepo } from "../src/testing/repos.ts";
import { readCommitDetails } from "./git.ts";

test("the subject is the first line of the message, with the author's name; markup stays text", async () => {
  const repo = fixtureRepo({ "index.html": "<h1>hi</h1>" });
  repo.commit({ "index.html": "<h1>v2</h1>" }, "main", "Fix <b>header</b> & footer\n\nLonger body\nmore");
  const details = await readCommitDetails(repo.dir, true, new AbortController().signal);
  expect(details).toEqual({ message: "Fix <b>header</b> & footer", author: "Fixture" });
});

test("a directory that is not a repository has no details (an upload)", async () => {
  const details = await readCommitDetails(tempDir("minivercel-empty-"), true, new AbortController().signal);
  expect(details).toEqual({ message: null, author: null });
});

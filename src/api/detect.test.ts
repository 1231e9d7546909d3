// POST /api/projects/detect through the API's handler: a real repository's settings before its first build, and
// every mistake a 4xx with a JSON body naming the field, never a 500.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing/deps.ts";
import { fixtureRepo, VITE_APP } from "../testing/repos.ts";

let deps: Deps;
let api: Client;
beforeAll(async () => {
  deps = await testDeps();
  api = apiClient(deps, (await testUser(deps)).token);
});
afterAll(() => deps.close());

const error = (body: unknown) => obj(obj(body).error);

test("the default branch's settings, the branches, and nothing created", async () => {
  const repo = fixtureRepo({ ...VITE_APP, "yarn.lock": "# yarn lockfile v1\n" }, "trunk");
  repo.commit({ "index.html": "<h1>other</h1>", "package.json": "{}" }, "plain");
  // Back on trunk: the repository's HEAD, its default branch.
  repo.commit({}, "trunk");
  const found = await api("POST", "/api/projects/detect", { gitUrl: repo.url });
  expect(found.status).toBe(200);
  expect(found.body).toMatchObject({
    branch: "trunk",
    branches: ["trunk", "plain"],
    framework: "vite",
    frameworkName: "Vite",
    packageManager: "yarn",
    installCommand: "corepack yarn install --frozen-lockfile",
    buildCommand: "corepack yarn run build",
    outputDirectory: "dist",
    startCommand: null,
    startAlways: false,
  });
  const other = await api("POST", "/api/projects/detect", { gitUrl: repo.url, branch: "plain" });
  expect(other.body).toMatchObject({ branch: "plain", framework: "static", outputDirectory: "" });
  expect(obj((await api("GET", "/api/projects")).body).items).toEqual([]);
});

test("mistakes are 422s naming the field; a missing body field is a validation error", async () => {
  const repo = fixtureRepo({ "index.html": "hi" });
  const cases: [unknown, string, RegExp][] = [
    [{ gitUrl: repo.url, branch: "nope" }, "branch", /Branch nope is not in the repository/],
    [{ gitUrl: repo.url, rootDirectory: "web" }, "rootDirectory", /not a folder of the repository/],
    [{ gitUrl: "--upload-pack=touch" }, "gitUrl", /must not start with '-'/],
    [{ gitUrl: "file:///nonexistent/repo.git" }, "gitUrl", /could not be read/],
  ];
  for (const [body, field, message] of cases) {
    const answer = await api("POST", "/api/projects/detect", body);
    expect({ status: answer.status, field: error(answer.body).field }).toEqual({ status: 422, field });
    expect(String(error(answer.body).message)).toMatch(message);
  }
  const empty = await api("POST", "/api/projects/detect", {});
  expect(empty.status).toBe(422);
  expect(error(empty.body).code).toBe("validation_failed");
});

test("it needs an account, and a token that may write", async () => {
  const repo = fixtureRepo({ "index.html": "hi" });
  expect((await apiClient(deps, null)("POST", "/api/projects/detect", { gitUrl: repo.url })).status).toBe(
    401,
  );
});

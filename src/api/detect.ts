// POST /api/projects/detect: a repository's build settings before its first build (git ls-remote for its default
// branch, then a tree-only fetch in the build sandbox and the build's detector: src/git/detect-remote.ts).

import { Elysia, t } from "elysia";
import type { Deps } from "../deps.ts";
import { invalid, RateLimited } from "../errors.ts";
import { detectOptions, detectRemote } from "../git/detect-remote.ts";
import { listBranches } from "../git/ls-remote.ts";
import { requireUser } from "./auth.ts";
import { errorResponse } from "./schemas.ts";

export const DetectRequest = t.Object(
  {
    gitUrl: t.String({ minLength: 1, maxLength: 2048 }),
    branch: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 255,
        description: "defaults to the repository's default branch (HEAD)",
      }),
    ),
    rootDirectory: t.Optional(
      t.String({ maxLength: 500, description: "the project's folder in the repository" }),
    ),
  },
  { additionalProperties: false },
);

const NullableText = (description?: string) =>
  t.Union([t.String(), t.Null()], description === undefined ? {} : { description });

export const DetectedSettings = t.Object({
  branch: t.String({ description: "the branch whose files were read" }),
  branches: t.Array(t.String(), { description: "the repository's branches, the default one first" }),
  commitSha: t.String({ description: "the commit read" }),
  framework: t.String({
    description: "vite, nextjs, astro, sveltekit, docusaurus, create-react-app, static or node",
  }),
  frameworkName: t.String(),
  packageManager: NullableText(),
  installCommand: NullableText(),
  buildCommand: NullableText(),
  outputDirectory: t.String({ description: '"" is the project\'s root' }),
  startCommand: NullableText("a server the project says how to start (Procfile, start script)"),
  startAlways: t.Boolean({
    description:
      "true: it runs after every build (no site output); false: only if the build leaves no output",
  }),
  notes: t.Array(t.String(), { description: "how it was detected, as a build's log says it" }),
});

/** Detections running at once in this process: each is a sandbox with git for up to 30 seconds. */
const MAX_RUNNING = 4;

export function detectRoutes({ config, auth }: Pick<Deps, "config" | "auth">) {
  let running = 0;
  return new Elysia({ tags: ["projects"] }).use(requireUser(auth)).post(
    "/projects/detect",
    async ({ body }) => {
      if (running >= MAX_RUNNING) throw new RateLimited("detections are busy; try again in a few seconds", 5);
      running += 1;
      try {
        const remote = await listBranches(body.gitUrl, {
          allowLocal: config.allowLocalGit,
          allowPrivate: config.allowPrivateGit,
        });
        if (!remote.ok) throw invalid(`Git repository URL ${remote.problem}`, "gitUrl");
        const branch = body.branch ?? remote.defaultBranch ?? remote.branches[0];
        if (!branch) throw invalid("Git repository has no branches yet", "gitUrl");
        if (!remote.branches.includes(branch))
          throw invalid(`Branch ${branch} is not in the repository`, "branch");
        const found = await detectRemote(
          body.gitUrl,
          branch,
          body.rootDirectory ?? "",
          detectOptions(config),
        );
        if (!found.ok) throw invalid(found.problem, found.field);
        return { branch, branches: remote.branches, ...found.settings };
      } finally {
        running -= 1;
      }
    },
    {
      body: DetectRequest,
      parse: "json",
      response: {
        200: DetectedSettings,
        422: errorResponse(
          "The URL is refused or the repository cannot be read (unreachable, private, no such branch or folder, timed out): `field` says which.",
        ),
        429: errorResponse("Too many detections at once on this server."),
      },
      detail: {
        summary: "Detect a repository's build settings",
        description:
          "Reads the branch's files without building: a shallow, tree-only fetch in the build sandbox, then the " +
          "build's own detection. Nothing is created; pass the settings (or your edits) to POST /api/projects.",
      },
    },
  );
}

// A build's job: what the launcher hands the builder (builder/job.ts), made from the deployment, its project's
// settings and variables, the platform's limits, and the Vercel system variables frameworks look for.

import { join } from "node:path";
import type { BuildJob } from "../../builder/job.ts";
import type { BuildConfig, Config } from "../config/config.ts";
import { sourceManifestId } from "../deploy/prebuilt.ts";
import { pushRepoUrl } from "../git/repos.ts";
import type { Deployment, DeploymentTarget, Project } from "../model/entities.ts";
import { branchUrl, deploymentUrl, productionUrl } from "../model/urls.ts";
import type { Artifacts, ArtifactsConfig } from "../store/artifacts.ts";
import { projectCache } from "./package-cache.ts";

const hostOf = (url: string) => url.replace(/^https?:\/\//, "");

/**
 * What Vercel tells a build about itself: frameworks that detect Vercel (Nitro's and SvelteKit adapter-auto's
 * presets) then write a Build Output, and apps read their own URLs. Hosts without a scheme, as on Vercel.
 */
export function systemEnv(
  config: Pick<Config, "sitesDomain" | "proxyPort" | "https">,
  project: Pick<Project, "subDomain">,
  deployment: Pick<Deployment, "id" | "branch">,
): Record<string, string> {
  return {
    VERCEL: "1",
    VERCEL_URL: hostOf(deploymentUrl(project, deployment.id, config)),
    VERCEL_PROJECT_PRODUCTION_URL: hostOf(productionUrl(project, config)),
    VERCEL_DEPLOYMENT_ID: deployment.id,
    ...(deployment.branch !== null && {
      VERCEL_BRANCH_URL: hostOf(branchUrl(project, deployment.branch, config)),
      VERCEL_GIT_COMMIT_REF: deployment.branch,
    }),
  };
}

/** The job for a deployment's build (builder/job.ts): its source, the project's settings and variables, limits. */
export async function buildJob(
  deps: {
    artifacts: Pick<Artifacts, "getManifest">;
    artifactsConfig: ArtifactsConfig;
    projectEnv: (projectId: string, target: DeploymentTarget) => Promise<Record<string, string>>;
    config: Pick<
      Config,
      "dataDir" | "allowLocalGit" | "allowPrivateGit" | "sitesDomain" | "proxyPort" | "https"
    > & { build: BuildConfig };
  },
  deployment: Deployment,
  project: Project,
): Promise<BuildJob> {
  const { config } = deps;
  const timeoutSeconds = project.buildTimeoutSeconds ?? config.build.timeoutSeconds;
  const cacheDir = projectCache(config, project.id);
  const uploaded = sourceManifestId(deployment.id);
  const fromUpload = (await deps.artifacts.getManifest(uploaded)) !== null;
  const ownRemote = project.gitUrl === pushRepoUrl(config.dataDir, project.id);
  return {
    deploymentId: deployment.id,
    gitUrl: project.gitUrl ?? "",
    branch: deployment.branch,
    commitSha: deployment.commitSha,
    source: fromUpload ? { kind: "manifest", manifestId: uploaded } : { kind: "git" },
    rootDirectory: project.rootDirectory,
    installCommand: project.installCommand,
    buildCommand: project.buildCommand,
    outputDirectory: project.outputDirectory,
    startCommand: project.startCommand,
    env: await deps.projectEnv(project.id, deployment.target),
    target: deployment.target,
    system: systemEnv(config, project, deployment),
    // The project's own push remote is a local path the platform owns: cloning it needs no local-git opt-in.
    allowLocalGit: config.allowLocalGit || ownRemote,
    // A remote builder (ECS) cannot read that path: it fetches the repository from the platform over HTTP.
    ...(ownRemote && { pushRemote: `/git/${project.subDomain}.git` }),
    allowPrivateGit: config.allowPrivateGit,
    sandbox: config.build.sandbox,
    ...(config.build.sandboxPath !== null && { sandboxPath: config.build.sandboxPath }),
    limits: {
      memoryMb: config.build.memoryMb,
      pids: config.build.pids,
      timeoutMs: timeoutSeconds * 1000,
      logBytes: config.build.logMb * 1024 * 1024,
    },
    workDir: join(config.dataDir, "builds", deployment.id),
    cacheDir,
    output: { kind: "local", artifacts: deps.artifactsConfig },
  };
}

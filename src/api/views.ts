// Domain objects -> API response objects (adds URLs, drops owner ids and secrets).

import type { Config } from "../config/config.ts";
import { verificationRecord } from "../deploy/domains.ts";
import type { ApiToken, Deployment, Project } from "../model/entities.ts";
import { branchUrl, deploymentUrl, productionUrl } from "../model/urls.ts";

type UrlConfig = Pick<Config, "sitesDomain" | "proxyPort" | "https">;

export function projectView(p: Project, config: UrlConfig) {
  return {
    id: p.id,
    teamId: p.teamId,
    name: p.name,
    gitUrl: p.gitUrl,
    subDomain: p.subDomain,
    customDomain: p.customDomain,
    customDomainVerifiedAt: p.customDomainVerifiedAt,
    domainVerification: verificationRecord(p),
    productionBranch: p.productionBranch,
    rootDirectory: p.rootDirectory,
    installCommand: p.installCommand,
    buildCommand: p.buildCommand,
    outputDirectory: p.outputDirectory,
    buildTimeoutSeconds: p.buildTimeoutSeconds,
    spaFallback: p.spaFallback,
    startCommand: p.startCommand,
    idleTimeoutMinutes: p.idleTimeoutMinutes,
    maxInstances: p.maxInstances,
    productionDeploymentId: p.productionDeploymentId,
    previousProductionDeploymentId: p.previousProductionDeploymentId,
    productionSince: p.productionSince,
    protection: p.protection,
    protectionPassword: p.protectionPassword,
    productionUrl: productionUrl(p, config),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function deploymentView(d: Deployment, project: { subDomain: string }, config: UrlConfig) {
  return {
    id: d.id,
    projectId: d.projectId,
    status: d.status,
    statusReason: d.statusReason,
    target: d.target,
    branch: d.branch,
    commitSha: d.commitSha,
    commitMessage: d.commitMessage,
    commitAuthor: d.commitAuthor,
    url: deploymentUrl(project, d.id, config),
    branchUrl: d.branch === null ? null : branchUrl(project, d.branch, config),
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function tokenView(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    expiresAt: t.expiresAt,
    scope: t.scope,
  };
}

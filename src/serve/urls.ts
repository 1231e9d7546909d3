// The URL scheme: production <sub>.<base>, one immutable host per deployment <sub>--<id12>.<base>.

import type { Config } from "../config.ts";

type UrlConfig = Pick<Config, "baseDomain" | "proxyPort">;

/** The 12 hex characters of a deployment id used in its host name. */
export const deploymentHostId = (deploymentId: string): string =>
  deploymentId.replaceAll("-", "").slice(0, 12);

function origin(host: string, config: UrlConfig): string {
  // Port 80 is implied; any other port (8001 by default) is part of the URL users click.
  const port = config.proxyPort === 80 ? "" : `:${config.proxyPort}`;
  return `http://${host}${port}`;
}

export function productionUrl(project: { subDomain: string }, config: UrlConfig): string {
  return origin(`${project.subDomain}.${config.baseDomain}`, config);
}

export function deploymentUrl(
  project: { subDomain: string },
  deploymentId: string,
  config: UrlConfig,
): string {
  return origin(`${project.subDomain}--${deploymentHostId(deploymentId)}.${config.baseDomain}`, config);
}

// The banner signed-in pages show while this server cannot run builds: why, and the command that fixes it.
/** @jsxImportSource preact */

import type { BuildsStatus } from "../../src/worker/readiness.ts";

export function BuildsBanner({ builds }: { builds: BuildsStatus | null }) {
  if (builds === null || builds.ready !== false) return null;
  return (
    <section class="notice danger builds-banner" role="alert" aria-labelledby="builds-banner-title">
      <h2 id="builds-banner-title">Builds cannot run on this server</h2>
      <p>{builds.problem}</p>
      {builds.fix && (
        <p>
          Fix, on the server: <code class="mono">{builds.fix}</code>
        </p>
      )}
      <p class="small muted">
        Deployments that need a build fail at once until then; prebuilt deploys (
        <code>minivercel deploy --prebuilt</code>) still work. <code>minivercel doctor</code> checks the whole
        host.
      </p>
    </section>
  );
}

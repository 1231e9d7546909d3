// A deployment's app server: its command and how it was found, whether it runs (instances, restarts, the last
// exit, a crash loop) and a restart button. Props in, HTML out.
/** @jsxImportSource preact */

import { Csrf } from "../layout.tsx";
import { Time } from "./time.tsx";

export interface AppInstanceRow {
  id: string;
  /** The functions node it runs on; null: the dashboard's own process. */
  node: string | null;
  state: string;
  inFlight: number;
  memoryBytes: number | null;
  startedAt: string;
  lastRequestAt: string | null;
}

export interface AppServerProps {
  deploymentId: string;
  csrf: string;
  command: string;
  detected: string;
  /** Null: the app servers run in other processes (the proxies), not in this one nor on nodes it asks. */
  running: {
    instances: AppInstanceRow[];
    restarts: number;
    crashes: number;
    crashLoop: boolean;
    lastExit: string | null;
    /** Functions nodes that did not answer in time: their instances are not listed. */
    unanswered: { id: string; problem: string }[];
  } | null;
  /** From the project's settings. */
  idleMinutes: number;
  maxInstances: number;
}

export function AppServerSection(props: AppServerProps) {
  const { running } = props;
  const onNodes = running?.instances.some((i) => i.node !== null) === true;
  const state =
    running === null
      ? "elsewhere"
      : running.crashLoop
        ? "crash-loop"
        : running.instances.length > 0
          ? "running"
          : "sleeping";
  return (
    <section class="card" id="app-server" aria-labelledby="app-server-title" data-state={state}>
      <h2 id="app-server-title">
        App server{" "}
        {state === "crash-loop" && (
          <span class="badge badge-fail" data-crash-loop="true">
            <span class="badge-dot" aria-hidden="true" />
            Crash loop
          </span>
        )}
        {state === "running" && (
          <span class="badge badge-ready">
            <span class="badge-dot" aria-hidden="true" />
            Running
          </span>
        )}
        {state === "sleeping" && (
          <span class="badge badge-queued">
            <span class="badge-dot" aria-hidden="true" />
            Sleeping
          </span>
        )}
      </h2>
      <dl class="facts">
        <div class="wide">
          <dt>Start command</dt>
          <dd class="mono">{props.command}</dd>
        </div>
        <div class="wide">
          <dt>Found by</dt>
          <dd>{props.detected}</dd>
        </div>
        <div>
          <dt>Idle stop</dt>
          <dd>{props.idleMinutes === 0 ? "always on" : `after ${props.idleMinutes} min`}</dd>
        </div>
        <div>
          <dt>Instances</dt>
          <dd>up to {props.maxInstances}</dd>
        </div>
        {running && (
          <div>
            <dt>Restarts</dt>
            <dd>{running.restarts}</dd>
          </div>
        )}
        {running?.lastExit && (
          <div class="wide">
            <dt>Last exit</dt>
            <dd class="mono" data-last-exit>
              it {running.lastExit}
              {running.crashes > 0 &&
                ` (${running.crashes} failure${running.crashes === 1 ? "" : "s"} in a row)`}
            </dd>
          </div>
        )}
      </dl>
      {running?.unanswered.map((node) => (
        <p class="notice small" key={node.id} data-unanswered={node.id}>
          Functions node <span class="mono">{node.id}</span> {node.problem}: its instances are not listed.
        </p>
      ))}
      {running === null ? (
        <p class="muted small">
          App servers run in the proxy processes, not on this server: their runtime logs below say how they
          run.
        </p>
      ) : running.instances.length === 0 ? (
        <p class="muted small">No instance is running: the next request starts one and waits for it.</p>
      ) : (
        <table class="instances">
          <thead>
            <tr>
              <th>Instance</th>
              {onNodes && <th>Node</th>}
              <th>State</th>
              <th>Requests now</th>
              <th>Memory</th>
              <th>Started</th>
              <th>Last request</th>
            </tr>
          </thead>
          <tbody>
            {running.instances.map((i) => (
              <tr key={i.id} data-instance={i.id}>
                <td class="mono">{i.id}</td>
                {onNodes && (
                  <td class="mono" data-node={i.node ?? ""}>
                    {i.node ?? "this server"}
                  </td>
                )}
                <td>{i.state}</td>
                <td>{i.inFlight}</td>
                <td data-memory>
                  {i.memoryBytes === null ? "—" : `${(i.memoryBytes / 1024 / 1024).toFixed(1)} MB`}
                </td>
                <td>
                  <Time iso={i.startedAt} />
                </td>
                <td>{i.lastRequestAt ? <Time iso={i.lastRequestAt} /> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {running !== null && (
        <form method="post" action={`/deployments/${props.deploymentId}/restart`} class="inline-form">
          <Csrf token={props.csrf} />
          <button type="submit" class="button" id="restart-button">
            Restart
          </button>
        </form>
      )}
    </section>
  );
}

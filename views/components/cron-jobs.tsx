// A project's cron jobs (its production deployment's): path, schedule, next run, and how the last run went.
/** @jsxImportSource preact */

import type { CronRunView, ProjectCrons } from "../../src/deploy/crons.ts";
import { Time } from "./time.tsx";

function RunBadge({ run }: { run: CronRunView }) {
  if (run.finishedAt === null)
    return (
      <span class="badge badge-in-progress" data-status="RUNNING">
        <span class="badge-dot" aria-hidden="true" />
        Running
      </span>
    );
  const ok = run.status !== null && run.status >= 200 && run.status < 400;
  return (
    <span class={`badge ${ok ? "badge-ready" : "badge-fail"}`} data-status={ok ? "OK" : "FAILED"}>
      <span class="badge-dot" aria-hidden="true" />
      {run.status === null ? "No answer" : run.status}
    </span>
  );
}

export function CronJobs({ crons }: { crons: ProjectCrons }) {
  if (crons.jobs.length === 0 || crons.deploymentId === null) return null;
  return (
    <section class="card" aria-labelledby="crons-title" id="cron-jobs">
      <h2 id="crons-title">Cron jobs</h2>
      <p class="muted">
        Production requests each path with <code>GET</code> when its schedule (UTC) is due; set{" "}
        <code>CRON_SECRET</code> to have it sent as <code>Authorization: Bearer …</code>. Their output is in
        the <a href={`/deployments/${crons.deploymentId}/runtime-logs`}>runtime logs</a>.
      </p>
      <table class="cron-jobs">
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Schedule</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
          </tr>
        </thead>
        <tbody>
          {crons.jobs.map((job) => (
            <tr key={`${job.path} ${job.schedule}`}>
              <td class="mono">{job.path}</td>
              <td class="mono">{job.schedule}</td>
              <td>{job.nextRunAt ? <Time iso={job.nextRunAt} /> : <span class="muted">never</span>}</td>
              <td>
                {job.lastRun ? (
                  <span class="cron-last">
                    <RunBadge run={job.lastRun} /> <Time iso={job.lastRun.startedAt} />
                    {job.lastRun.durationMs !== null && (
                      <span class="muted"> · {job.lastRun.durationMs} ms</span>
                    )}
                    {job.lastRun.error && <span class="muted"> · {job.lastRun.error}</span>}
                  </span>
                ) : (
                  <span class="muted">not yet</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

// An outgoing webhook's delivery log: each delivery (event, status, attempts, when) with every attempt's answer
// or error and its time, and a Redeliver button.
/** @jsxImportSource preact */

import type { Project } from "../../src/model/entities.ts";
import type { HookAttempt, HookDelivery, OutgoingHook } from "../../src/store/outgoing-hooks.ts";
import { Time } from "../components/time.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { ProjectHead } from "./project-head.tsx";

export interface HookDeliveriesProps {
  chrome: Chrome;
  project: Project;
  productionUrl: string;
  hook: OutgoingHook;
  deliveries: (HookDelivery & { log: HookAttempt[] })[];
  /** The delivery just queued again, if any. */
  queued: string | null;
}

export function HookDeliveriesPage(props: HookDeliveriesProps) {
  const { chrome, project, productionUrl, hook, deliveries } = props;
  const base = `/projects/${project.id}/hooks/${hook.id}`;
  return (
    <Layout chrome={chrome} title={`${project.name} · Webhook deliveries`} nav="projects">
      <ProjectHead project={project} productionUrl={productionUrl} tab="git" />
      <section class="card" aria-labelledby="log-title" id="hook-deliveries">
        <h2 id="log-title">Deliveries to {hook.url}</h2>
        <p class="muted small">
          <a href={`/projects/${project.id}/git#outgoing-hooks`}>Back to the webhooks</a> · {hook.format} ·{" "}
          {hook.events.map((e) => e.replace(/^deployment\./, "")).join(", ")}
        </p>
        {props.queued && (
          <p class="notice success" role="status" id="redelivered">
            Delivery <span class="mono">{props.queued.slice(0, 8)}</span> queued again.
          </p>
        )}
        {deliveries.length === 0 ? (
          <p class="empty">No deliveries yet: they come with the project's next deployment events.</p>
        ) : (
          <ul class="list deliveries">
            {deliveries.map((d) => (
              <li key={d.id} class="list-row hook-delivery" data-delivery={d.id} data-status={d.status}>
                <div>
                  <span class={d.status === "failed" ? "tag tag-failed" : "tag"}>{d.status}</span>{" "}
                  <span class="mono">{d.event}</span>{" "}
                  <span class="muted small">
                    {d.attempts} attempt{d.attempts === 1 ? "" : "s"} · <Time iso={d.createdAt} />
                  </span>
                  <ol class="attempts small">
                    {d.log.map((a) => (
                      <li key={a.at} class="attempt">
                        <Time iso={a.at} /> <span class="mono">{a.statusCode ?? "no answer"}</span>{" "}
                        {a.durationMs} ms
                        {a.error && <span class="muted"> {a.error}</span>}
                      </li>
                    ))}
                  </ol>
                </div>
                <form method="post" action={`${base}/deliveries/${d.id}/redeliver`} class="inline-form">
                  <Csrf token={chrome.csrf} />
                  <button type="submit" class="button small" disabled={d.status === "pending"}>
                    Redeliver
                  </button>
                </form>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}

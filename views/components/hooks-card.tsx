// The Git page's outgoing webhooks card: the project's hooks (URL, events, format), the signing secret of one just
// added (shown this once), a form to add one and a link to each hook's delivery log.
/** @jsxImportSource preact */

import { HOOK_EVENTS, type OutgoingHook } from "../../src/store/outgoing-hooks.ts";
import { Csrf } from "../layout.tsx";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "./field.tsx";
import { Time } from "./time.tsx";

const FORMATS = [
  { format: "standard", label: "Standard Webhooks (signed JSON)" },
  { format: "slack", label: "Slack" },
  { format: "discord", label: "Discord" },
];

export interface HooksCardProps {
  projectId: string;
  csrf: string;
  hooks: OutgoingHook[];
  /** The secret of the hook just added: shown once. */
  created: { hookId: string; secret: string } | null;
  values: FormValues;
  errors: FormErrors;
}

export function HooksCard(props: HooksCardProps) {
  const { projectId, csrf, hooks, created, errors } = props;
  const submitted = Object.keys(props.values).length > 0 ? props.values : null;
  return (
    <section class="card" aria-labelledby="outgoing-title" id="outgoing-hooks">
      <h2 id="outgoing-title">Outgoing webhooks</h2>
      <p class="muted small">
        Deployment events (created, ready, failed, promoted, rolled back) sent to your URL, signed per
        Standard Webhooks, retried with backoff for about an hour.
      </p>
      {created && (
        <div class="notice success" role="status" id="hook-created">
          <p>Webhook added. Its signing secret is shown only now:</p>
          <div class="copy-row">
            <input id="new-hook-secret" class="mono" value={created.secret} readonly autocomplete="off" />
            <button type="button" class="button small" data-copy="#new-hook-secret">
              Copy
            </button>
          </div>
        </div>
      )}
      {hooks.length === 0 ? (
        <p class="empty">No outgoing webhooks.</p>
      ) : (
        <ul class="list hooks" id="hooks-list">
          {hooks.map((h) => (
            <li key={h.id} class="list-row hook" data-hook={h.id}>
              <div>
                <a class="mono hook-url" href={`/projects/${projectId}/hooks/${h.id}`}>
                  {h.url}
                </a>{" "}
                <span class="tag">{h.format}</span>
                <p class="small muted">
                  {h.events.map((e) => e.replace(/^deployment\./, "")).join(", ")} · added{" "}
                  <Time iso={h.createdAt} />
                </p>
              </div>
              <div class="actions">
                <a class="button small" href={`/projects/${projectId}/hooks/${h.id}`}>
                  Deliveries
                </a>
                <form
                  method="post"
                  action={`/projects/${projectId}/hooks/${h.id}/delete`}
                  class="inline-form"
                >
                  <Csrf token={csrf} />
                  <button
                    type="submit"
                    class="button danger small"
                    aria-label={`Remove the webhook to ${h.url}`}
                  >
                    Remove
                  </button>
                </form>
              </div>
            </li>
          ))}
        </ul>
      )}
      <HxForm id="hook-form" action={`/projects/${projectId}/hooks`} class="stack" region="outgoing-hooks">
        <Csrf token={csrf} />
        <Field
          name="url"
          label="URL"
          type="url"
          values={submitted ?? {}}
          errors={errors}
          placeholder="https://example.com/minivercel-events"
          monospace
        />
        <fieldset class={errors.events ? "choices has-error" : "choices"}>
          <legend>Events</legend>
          {HOOK_EVENTS.map((event) => (
            <label class="choice" key={event}>
              <input
                type="checkbox"
                name={event}
                value="on"
                checked={submitted ? submitted[event] === "on" : true}
              />
              {event.replace(/^deployment\./, "")}
            </label>
          ))}
          {errors.events && (
            <p class="field-error" id="f-events-error" role="alert">
              {errors.events}
            </p>
          )}
        </fieldset>
        <div class={errors.format ? "field has-error" : "field"}>
          <label for="f-format">Format</label>
          <select id="f-format" name="format">
            {FORMATS.map((f) => (
              <option
                key={f.format}
                value={f.format}
                selected={(submitted?.format ?? "standard") === f.format}
              >
                {f.label}
              </option>
            ))}
          </select>
          {errors.format && (
            <p class="field-error" id="f-format-error" role="alert">
              {errors.format}
            </p>
          )}
        </div>
        <FormError errors={errors} />
        <div class="actions">
          <button type="submit" class="button primary">
            Add webhook
          </button>
        </div>
      </HxForm>
    </section>
  );
}

// Project settings, custom domains: each domain with its verification state (and the DNS record still to
// create), its redirect target, and remove; a form to add one, with its www pair.
/** @jsxImportSource preact */

import { type ProjectDomain, REDIRECT_STATUSES, recordFor, wwwPair } from "../../src/model/domains.ts";
import type { Project } from "../../src/model/entities.ts";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { Time } from "../components/time.tsx";
import { Csrf } from "../layout.tsx";

/** Which of this section's forms was just submitted: `domain` names the domain of a per-domain form. */
export interface DomainsSubmitted {
  form: "add" | "domain";
  domain: string | null;
  values: FormValues;
  errors: FormErrors;
}

export interface DomainsSectionProps {
  csrf: string;
  project: Project;
  domains: ProjectDomain[];
  submitted: DomainsSubmitted | null;
}

const REGION = "custom-domains";
const STATUS_LABELS: Record<number, string> = {
  308: "308 permanent",
  301: "301 permanent (legacy)",
  307: "307 temporary",
  302: "302 temporary (legacy)",
};

export function DomainsSection(props: DomainsSectionProps) {
  const { csrf, project, domains, submitted } = props;
  const adding = submitted?.form === "add" ? submitted : null;
  const values = adding?.values ?? {};
  // The field is "domain" on the page (the General section has a "name" already); the rules call it "name".
  const nameError = adding?.errors.name;
  const addErrors: FormErrors = nameError ? { domain: nameError } : {};
  return (
    <section class="card" id={REGION} aria-labelledby={`${REGION}-title`}>
      <h2 id={`${REGION}-title`}>Custom domains</h2>
      <p class="muted small">
        A project may have several domains. Each one is served (with its own certificate when HTTPS is on)
        once you prove it is yours with a DNS record; one may instead redirect to another, keeping the path
        and query. The first one is the project's primary domain.
      </p>
      {domains.length === 0 ? (
        <p class="muted" id="no-domains">
          No custom domain yet.
        </p>
      ) : (
        <ul class="list domain-list">
          {domains.map((domain) => (
            <DomainItem
              key={domain.name}
              csrf={csrf}
              project={project}
              domain={domain}
              domains={domains}
              submitted={submitted?.form === "domain" && submitted.domain === domain.name ? submitted : null}
            />
          ))}
        </ul>
      )}
      <HxForm id="domain-add-form" action={`/projects/${project.id}/domains`} region={REGION} class="stack">
        <Csrf token={csrf} />
        <Field
          name="domain"
          label="Add a domain"
          values={values}
          errors={addErrors}
          placeholder="example.com"
          hint="Point its DNS (CNAME or A record) at this server."
          monospace
        />
        <label class="choice">
          <input type="checkbox" name="www" value="on" id="f-www" checked={values.www === "on"} />
          Pair with www: www.&lt;domain&gt; serves and the apex redirects to it (type either; what the project
          lacks is added, an apex it has is made to redirect)
        </label>
        <FormError errors={adding?.errors ?? {}} />
        <div class="actions">
          <button type="submit" class="button primary">
            Add domain
          </button>
        </div>
      </HxForm>
    </section>
  );
}

function DomainItem(props: {
  csrf: string;
  project: Project;
  domain: ProjectDomain;
  domains: ProjectDomain[];
  submitted: DomainsSubmitted | null;
}) {
  const { csrf, project, domain, domains, submitted } = props;
  const base = `/projects/${project.id}/domains/${encodeURIComponent(domain.name)}`;
  const record = recordFor(domain.name, project.domainToken);
  const errors = submitted?.errors ?? {};
  // Targets: the project's other domains that serve (a redirect never points at a redirect).
  const targets = domains.filter((d) => d.name !== domain.name && d.redirectTo === null);
  const redirected = domains.some((d) => d.redirectTo === domain.name);
  const selected = submitted?.values.redirectTo ?? domain.redirectTo ?? "";
  const status = submitted?.values.redirectStatus ?? String(domain.redirectStatus ?? 308);
  const suggested = wwwPair(domain.name);
  return (
    <li class="list-row domain-row" data-domain={domain.name}>
      <div class="stack">
        <h3 class="mono">
          {domain.name}{" "}
          {domain.verifiedAt ? (
            <span class="badge badge-ready" data-verified="true">
              <span class="badge-dot" aria-hidden="true" />
              Verified
            </span>
          ) : (
            <span class="badge badge-queued" data-verified="false">
              <span class="badge-dot" aria-hidden="true" />
              Not verified
            </span>
          )}
        </h3>
        <p class="small muted">
          {domain.redirectTo ? (
            <>
              Redirects to <span class="mono">{domain.redirectTo}</span> ({domain.redirectStatus ?? 308})
            </>
          ) : (
            "Serves production"
          )}
          {domain.verifiedAt && (
            <>
              {" "}
              · verified <Time iso={domain.verifiedAt} />
            </>
          )}
        </p>
        {!domain.verifiedAt && (
          <HxForm id={`verify-${domain.name}`} action={`${base}/verify`} region={REGION} class="stack">
            <Csrf token={csrf} />
            <p class="muted small">
              Not served until you prove it is yours: add this DNS record at your DNS host, then verify.
            </p>
            <table class="dns-record">
              <thead>
                <tr>
                  <th>Type</th>
                  <th>Name</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td class="mono">{record.type}</td>
                  <td class="mono">{record.name}</td>
                  <td class="mono">{record.value}</td>
                </tr>
              </tbody>
            </table>
            <div class="actions">
              <button type="submit" class="button primary">
                Verify
              </button>
            </div>
          </HxForm>
        )}
        {!redirected && (targets.length > 0 || domain.redirectTo) && (
          <HxForm
            id={`redirect-${domain.name}`}
            action={`${base}/redirect`}
            region={REGION}
            class="inline-form"
          >
            <Csrf token={csrf} />
            <label for={`f-redirect-${domain.name}`}>Redirect to</label>
            <select name="redirectTo" id={`f-redirect-${domain.name}`}>
              <option value="" selected={selected === ""}>
                nothing: serve the site here
              </option>
              {targets.map((t) => (
                <option key={t.name} value={t.name} selected={selected === t.name}>
                  {t.name}
                </option>
              ))}
            </select>
            <select name="redirectStatus" aria-label="Redirect status">
              {REDIRECT_STATUSES.map((s) => (
                <option key={s} value={String(s)} selected={status === String(s)}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </select>
            <button type="submit" class="button">
              Save
            </button>
          </HxForm>
        )}
        {targets.length === 0 && !domain.redirectTo && suggested && (
          <p class="hint">
            Add <span class="mono">{suggested}</span> too to redirect one to the other.
          </p>
        )}
        <FormError errors={errors} />
      </div>
      <form method="post" action={`${base}/remove`} class="inline-form">
        <Csrf token={csrf} />
        <button type="submit" class="button danger">
          Remove
        </button>
      </form>
    </li>
  );
}

// Project settings: general, build, domains, environment variables (write-only values), deletion.
/** @jsxImportSource preact */

import type { ComponentChildren } from "preact";
import type { EnvVarView } from "../../src/deploy/env.ts";
import type { ProjectDomain } from "../../src/model/domains.ts";
import type { DeploymentTarget, Project } from "../../src/model/entities.ts";
import type { BypassToken } from "../../src/store/protection.ts";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { Time } from "../components/time.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { DomainsSection, type DomainsSubmitted } from "./domains-settings.tsx";
import { AppServerFields, BuildFields, SourceFields } from "./project-form.tsx";
import { ProjectHead } from "./project-head.tsx";
import { ProtectionSection } from "./protection-settings.tsx";

export type SettingsSection =
  | "general"
  | "build"
  | "server"
  | "domains"
  | "verify"
  | "domainAdd"
  | "domain"
  | "env"
  | "envPaste"
  | "delete"
  | "protection"
  | "password"
  | "bypass";

export interface SettingsProps {
  chrome: Chrome;
  /** Owners see every section; members the ones that are theirs (domains, variables). */
  owner: boolean;
  project: Project;
  productionUrl: string;
  sitesDomain: string;
  env: EnvVarView[];
  /** The project's custom domains, its primary (customDomain) first. */
  domains: ProjectDomain[];
  /** The section the user just submitted: its errors and typed values are shown there only. */
  section: SettingsSection | null;
  saved: boolean;
  values: FormValues;
  errors: FormErrors;
  /** After a change that only a new deployment picks up: the production deployment to redeploy (else null). */
  redeploy: { deploymentId: string } | null;
  /** Deployment protection's bypass tokens, and one just created (shown once). */
  bypassTokens: BypassToken[];
  createdBypass: string | null;
}

/** The sections only owners may change. */
const OWNER_SECTIONS = ["general", "build", "server", "protection", "delete"];

/** The sections, in page order, for the page's own navigation. */
const SECTION_NAV: [string, string][] = [
  ["general", "General"],
  ["build", "Build and output"],
  ["server", "App server"],
  ["domains", "Domains"],
  ["env", "Environment variables"],
  ["protection", "Protection"],
  ["delete", "Delete"],
];

export function SettingsPage(props: SettingsProps) {
  const { chrome, project, productionUrl } = props;
  return (
    <Layout chrome={chrome} title={`${project.name} · Settings`} nav="projects">
      <ProjectHead project={project} productionUrl={productionUrl} tab="settings" />
      <nav class="section-nav" aria-label="Settings sections">
        {SECTION_NAV.filter(([id]) => props.owner || !OWNER_SECTIONS.includes(id)).map(([id, label]) => (
          <a key={id} href={`#${id}`}>
            {label}
          </a>
        ))}
      </nav>
      {props.redeploy && (
        <section class="card notice-card success" id="redeploy-prompt" role="status">
          <p>Saved. Builds and functions pick this up at their next deployment.</p>
          <form
            method="post"
            action={`/deployments/${props.redeploy.deploymentId}/redeploy`}
            class="inline-form"
          >
            <Csrf token={chrome.csrf} />
            <button type="submit" class="button primary" id="redeploy-apply">
              Redeploy production to apply
            </button>
          </form>
        </section>
      )}
      <div class="settings">
        {props.owner && (
          <>
            <SettingsForm {...props} id="general" title="General">
              <Field
                name="name"
                label="Project name"
                values={valuesFor(props, "general")}
                errors={errorsFor(props, "general")}
              />
              <SourceFields values={valuesFor(props, "general")} errors={errorsFor(props, "general")} />
            </SettingsForm>
            <SettingsForm {...props} id="build" title="Build and output">
              <BuildFields values={valuesFor(props, "build")} errors={errorsFor(props, "build")} />
              <label class="choice">
                <input
                  type="checkbox"
                  name="spaFallback"
                  value="on"
                  id="f-spaFallback"
                  checked={valuesFor(props, "build").spaFallback === "on"}
                />
                Single-page app fallback: serve <code>/index.html</code> for unknown paths when there is no{" "}
                <code>404.html</code>
              </label>
            </SettingsForm>
            <SettingsForm {...props} id="server" title="App server">
              <AppServerFields values={valuesFor(props, "server")} errors={errorsFor(props, "server")} />
            </SettingsForm>
          </>
        )}
        <SettingsForm {...props} id="domains" title="Domains">
          <Field
            name="subDomain"
            label="Subdomain"
            values={valuesFor(props, "domains")}
            errors={errorsFor(props, "domains")}
            hint={`Production is served at <subdomain>.${props.sitesDomain}.`}
            monospace
          />
          <Field
            name="customDomain"
            label="Custom domain"
            values={valuesFor(props, "domains")}
            errors={errorsFor(props, "domains")}
            placeholder="www.example.com"
            hint="The primary custom domain (the first under Custom domains); saving replaces it, empty removes it."
            monospace
          />
        </SettingsForm>
        <DomainsSection
          csrf={chrome.csrf}
          project={project}
          domains={props.domains}
          submitted={domainsSubmitted(props)}
        />
        <EnvSection {...props} />
        {props.owner && (
          <ProtectionSection
            csrf={chrome.csrf}
            project={project}
            tokens={props.bypassTokens}
            created={props.createdBypass}
            submitted={props.section}
            values={props.values}
            errors={props.errors}
          />
        )}
        {props.owner && <DeleteSection {...props} />}
      </div>
    </Layout>
  );
}

/** What the custom domains section shows of a submitted form (the old single-domain verify: the first one). */
function domainsSubmitted(p: SettingsProps): DomainsSubmitted | null {
  const { section, values, errors } = p;
  if (section === "domainAdd") return { form: "add", domain: null, values, errors };
  if (section === "domain") return { form: "domain", domain: values.domain ?? null, values, errors };
  if (section === "verify") return { form: "domain", domain: p.domains[0]?.name ?? null, values, errors };
  return null;
}

const valuesFor = (p: SettingsProps, section: SettingsSection): FormValues =>
  p.section === section ? p.values : projectValues(p.project);
const errorsFor = (p: SettingsProps, section: SettingsSection): FormErrors =>
  p.section === section ? p.errors : {};

/** The project's current settings as form values. */
export function projectValues(project: Project): FormValues {
  return {
    name: project.name,
    gitUrl: project.gitUrl ?? "",
    productionBranch: project.productionBranch,
    rootDirectory: project.rootDirectory ?? "",
    installCommand: project.installCommand ?? "",
    buildCommand: project.buildCommand ?? "",
    outputDirectory: project.outputDirectory ?? "",
    buildTimeoutSeconds: project.buildTimeoutSeconds === null ? "" : String(project.buildTimeoutSeconds),
    startCommand: project.startCommand ?? "",
    idleTimeoutMinutes: project.idleTimeoutMinutes === null ? "" : String(project.idleTimeoutMinutes),
    maxInstances: project.maxInstances === null ? "" : String(project.maxInstances),
    subDomain: project.subDomain,
    customDomain: project.customDomain ?? "",
    spaFallback: project.spaFallback ? "on" : "",
  };
}

function SettingsForm(
  props: SettingsProps & { id: SettingsSection; title: string; children: ComponentChildren },
) {
  const { chrome, project, id, title, children } = props;
  return (
    <section class="card" id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <HxForm id={`${id}-form`} action={`/projects/${project.id}/settings`} class="stack">
        <Csrf token={chrome.csrf} />
        <input type="hidden" name="section" value={id} />
        {children}
        <FormError errors={errorsFor(props, id)} />
        <div class="actions">
          <button type="submit" class="button primary">
            Save
          </button>
          {props.saved && props.section === id && (
            <span class="saved" role="status">
              Saved
            </span>
          )}
        </div>
      </HxForm>
    </section>
  );
}

const TARGET_LABELS: Record<DeploymentTarget, string> = { production: "Production", preview: "Preview" };

function EnvSection(props: SettingsProps) {
  const { chrome, project, env } = props;
  const errors = errorsFor(props, "env");
  return (
    <section class="card" id="env" aria-labelledby="env-title">
      <h2 id="env-title">Environment variables</h2>
      <p class="muted small">
        Encrypted at rest and passed only to this project's builds and functions, of the environments chosen:
        a name may have one value for production and another for previews. Values are write-only: set a name
        again to replace its value.
      </p>
      {env.length > 0 && (
        <ul class="list">
          {env.map((v) => {
            const targets = v.targets.map((target) => TARGET_LABELS[target]).join(" and ");
            return (
              <li class="list-row" key={`${v.key}:${v.targets.join("+")}`}>
                <div>
                  <span class="mono">{v.key}</span>{" "}
                  <span class="tags">
                    {v.targets.map((target) => (
                      <span class={`tag tag-${target}`} key={target}>
                        {TARGET_LABELS[target]}
                      </span>
                    ))}
                  </span>
                  <div class="small muted">
                    updated <Time iso={v.updatedAt} />
                  </div>
                </div>
                <form
                  method="post"
                  action={`/projects/${project.id}/env/${encodeURIComponent(v.key)}/delete`}
                  class="inline-form"
                >
                  <Csrf token={chrome.csrf} />
                  {/* One target's value only: the key's value for the other environment stays. */}
                  {v.targets.length === 1 && <input type="hidden" name="target" value={v.targets[0]} />}
                  <button
                    type="submit"
                    class="button danger small"
                    aria-label={`Remove ${v.key} (${targets})`}
                  >
                    Remove
                  </button>
                </form>
              </li>
            );
          })}
        </ul>
      )}
      <HxForm id="env-form" action={`/projects/${project.id}/env`} class="stack">
        <Csrf token={chrome.csrf} />
        <div class="inline-fields">
          <Field
            name="key"
            label="Name"
            values={valuesFor(props, "env")}
            errors={errors}
            placeholder="API_URL"
            monospace
          />
          <Field name="value" label="Value" values={{}} errors={errors} monospace />
        </div>
        <TargetChoice props={props} errors={errors} />
        <FormError errors={errors} />
        <div class="actions">
          <button type="submit" class="button primary">
            Save variable
          </button>
        </div>
      </HxForm>
      <details class="env-paste" open={props.section === "envPaste"}>
        <summary>Paste a .env file</summary>
        <HxForm id="env-paste-form" action={`/projects/${project.id}/env/paste`} class="stack">
          <Csrf token={chrome.csrf} />
          <div class={errorsFor(props, "envPaste").dotenv ? "field has-error" : "field"}>
            <label for="f-dotenv">Lines of NAME=value (comments and blank lines are skipped)</label>
            <textarea
              id="f-dotenv"
              name="dotenv"
              rows={6}
              class="mono"
              spellcheck={false}
              autocomplete="off"
              aria-invalid={errorsFor(props, "envPaste").dotenv ? "true" : undefined}
              aria-describedby={errorsFor(props, "envPaste").dotenv ? "f-dotenv-error" : undefined}
              autofocus={Boolean(errorsFor(props, "envPaste").dotenv)}
            >
              {props.section === "envPaste" ? (props.values.dotenv ?? "") : ""}
            </textarea>
            {errorsFor(props, "envPaste").dotenv && (
              <p class="field-error" id="f-dotenv-error" role="alert">
                {errorsFor(props, "envPaste").dotenv}
              </p>
            )}
          </div>
          <TargetChoice props={props} errors={errorsFor(props, "envPaste")} />
          <div class="actions">
            <button type="submit" class="button" id="env-paste-button">
              Save variables
            </button>
          </div>
        </HxForm>
      </details>
    </section>
  );
}

/** Vercel's "Environments" checkboxes: both ticked at first; after an error, as the user left them. */
function TargetChoice({ props, errors }: { props: SettingsProps; errors: FormErrors }) {
  const error = errors.target;
  const submitted = props.section === "env" || props.section === "envPaste" ? props.values : null;
  return (
    <fieldset
      class={error ? "choices has-error" : "choices"}
      aria-describedby={error ? "f-target-error" : undefined}
    >
      <legend>Environments</legend>
      {(["production", "preview"] as const).map((target) => (
        <label class="choice" key={target}>
          <input
            type="checkbox"
            name={target}
            value="on"
            checked={submitted ? submitted[target] === "on" : true}
          />
          {TARGET_LABELS[target]}
        </label>
      ))}
      {error && (
        <p class="field-error" id="f-target-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function DeleteSection(props: SettingsProps) {
  const { chrome, project } = props;
  return (
    <section class="card danger-zone" id="delete" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete project</h2>
      <p class="muted small">
        Deletes the project with all of its deployments and build logs. Its sites stop being served. This
        cannot be undone.
      </p>
      <HxForm id="delete-form" action={`/projects/${project.id}/delete`} class="stack">
        <Csrf token={chrome.csrf} />
        <Field
          name="confirm"
          label={`Type the project name (${project.name}) to confirm`}
          values={props.section === "delete" ? props.values : {}}
          errors={errorsFor(props, "delete")}
        />
        <FormError errors={errorsFor(props, "delete")} />
        <div class="actions">
          <button type="submit" class="button danger" id="delete-button">
            Delete project
          </button>
        </div>
      </HxForm>
    </section>
  );
}

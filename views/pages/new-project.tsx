// A new project: import a git repository (framework preset and build settings shown before the first build,
// which starts on create), or drop a built site, or the command line.
/** @jsxImportSource preact */

import { DetectedCard, type DetectionView } from "../components/detected.tsx";
import { DropZone } from "../components/drop-zone.tsx";
import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { FrameworkField, type FrameworkPreset } from "../components/framework-field.tsx";
import { CliCard, type StartInfo } from "../components/start-cards.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { BranchField, BuildFields, GitUrlField } from "./project-form.tsx";

export function NewProjectPage(props: {
  chrome: Chrome;
  values: FormValues;
  errors: FormErrors;
  presets: FrameworkPreset[];
  start: StartInfo;
  /** The repository's branches, when it was read (git ls-remote) before this form; null otherwise. */
  branches?: string[] | null;
  /** What the repository's files say about its build (read in the sandbox), or why they could not be read. */
  detection?: DetectionView | null;
}) {
  const { chrome, values, errors, presets, start } = props;
  const branches = props.branches ?? null;
  return (
    <Layout chrome={chrome} title="New project" nav="projects" drop>
      <div class="page-head">
        <h1>New project</h1>
      </div>
      <div class="new-project">
        <section class="card" aria-labelledby="import-title">
          <h2 id="import-title">Import a git repository</h2>
          <HxForm id="project-form" action="/projects" class="stack">
            <Csrf token={chrome.csrf} />
            {values.team && <input type="hidden" name="team" value={values.team} />}
            <GitUrlField values={values} errors={errors} autofocus={!values.gitUrl} />
            {branches && (
              <p class="notice success small" id="repo-checked">
                Repository checked: {branches.length === 1 ? "1 branch" : `${branches.length} branches`}
                {values.productionBranch ? (
                  <>
                    , default <span class="mono">{values.productionBranch}</span>
                  </>
                ) : null}
                .
              </p>
            )}
            {props.detection && <DetectedCard detection={props.detection} />}
            <Field
              name="name"
              label="Project name"
              values={values}
              errors={errors}
              required
              autofocus={Boolean(values.gitUrl) && !values.name}
            />
            <FrameworkField presets={presets} values={values} />
            <fieldset class="build-settings">
              <legend>Build settings</legend>
              <p class="hint">Empty ones are detected when the build runs; a preset fills them in.</p>
              <BuildFields values={values} errors={errors} />
              <Field
                name="startCommand"
                label="Start command"
                values={values}
                errors={errors}
                placeholder="only for an app server"
                hint="Runs each deployment as a server listening on $PORT; empty: a static site (or detected after the build)."
                monospace
              />
            </fieldset>
            <div class="inline-fields">
              <BranchField values={values} errors={errors} branches={branches} />
              <Field
                name="subDomain"
                label="Subdomain"
                values={values}
                errors={errors}
                placeholder="derived from the name"
                hint="Served at <subdomain>.<your domain>."
                monospace
              />
            </div>
            <FormError errors={errors} />
            <div class="actions">
              <button type="submit" class="button primary" id="create-button">
                Create and deploy
              </button>
              <a class="button" href="/">
                Cancel
              </a>
            </div>
            <p class="hint">
              The first build starts at once and you watch its log live. Without a git URL the project is only
              created, to deploy by dropping files or from the command line.
            </p>
          </HxForm>
          {branches && branches.length > 1 && (
            <form method="get" action="/projects/new" class="detect-branch inline-form" id="detect-branch">
              <input type="hidden" name="gitUrl" value={values.gitUrl ?? ""} />
              <label for="f-detect-branch">Detect the settings of another branch</label>
              <select id="f-detect-branch" name="branch">
                {branches.map((branch) => (
                  <option key={branch} value={branch} selected={branch === props.detection?.branch}>
                    {branch}
                  </option>
                ))}
              </select>
              <button type="submit" class="button">
                Detect
              </button>
            </form>
          )}
        </section>
        <aside class="stack" aria-label="Other ways to deploy">
          <DropZone limits={start.limits} />
          <CliCard serverUrl={start.serverUrl} />
        </aside>
      </div>
    </Layout>
  );
}

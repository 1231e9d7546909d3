// The fields of a project's source and build settings, shared by the create and settings pages.
/** @jsxImportSource preact */

import { Field, type FormErrors, type FormValues } from "../components/field.tsx";

export function SourceFields({ values, errors }: { values: FormValues; errors: FormErrors }) {
  return (
    <>
      <GitUrlField values={values} errors={errors} />
      <BranchField values={values} errors={errors} />
    </>
  );
}

export function GitUrlField(props: { values: FormValues; errors: FormErrors; autofocus?: boolean }) {
  return (
    <Field
      name="gitUrl"
      label="Git repository URL"
      values={props.values}
      errors={props.errors}
      placeholder="https://github.com/you/site.git"
      autofocus={props.autofocus}
      monospace
    />
  );
}

export function BranchField(props: { values: FormValues; errors: FormErrors; branches?: string[] | null }) {
  const { values, errors, branches } = props;
  return (
    <>
      <Field
        name="productionBranch"
        label="Production branch"
        values={values}
        errors={errors}
        placeholder="main"
        hint="Pushes to this branch go to production; other branches get previews."
        monospace
        list={branches ? "branch-options" : undefined}
      />
      {branches && (
        <datalist id="branch-options">
          {branches.map((branch) => (
            <option key={branch} value={branch} />
          ))}
        </datalist>
      )}
    </>
  );
}

/** Build overrides: empty means "detected when the build runs". */
export function BuildFields({ values, errors }: { values: FormValues; errors: FormErrors }) {
  return (
    <div class="stack">
      <Field
        name="rootDirectory"
        label="Root directory"
        values={values}
        errors={errors}
        placeholder="(repository root)"
        hint="The folder the app lives in, for monorepos."
        monospace
      />
      <Field
        name="installCommand"
        label="Install command"
        values={values}
        errors={errors}
        placeholder="detected (lockfile)"
        monospace
      />
      <Field
        name="buildCommand"
        label="Build command"
        values={values}
        errors={errors}
        placeholder="detected (framework)"
        monospace
      />
      <Field
        name="outputDirectory"
        label="Output directory"
        values={values}
        errors={errors}
        placeholder="detected (dist, out…)"
        monospace
      />
      <Field
        name="buildTimeoutSeconds"
        label="Build timeout (seconds)"
        type="number"
        values={values}
        errors={errors}
        placeholder="platform default"
      />
    </div>
  );
}

/** An app server: the command that runs a deployment (listening on $PORT), its idle stop and its instances. */
export function AppServerFields({ values, errors }: { values: FormValues; errors: FormErrors }) {
  return (
    <div class="stack">
      <Field
        name="startCommand"
        label="Start command"
        values={values}
        errors={errors}
        placeholder="detected after the build (Next.js standalone, Nuxt, start script, Procfile)"
        hint="Runs each deployment as a server listening on $PORT; its static files (public/) are served directly."
        monospace
      />
      <Field
        name="idleTimeoutMinutes"
        label="Idle timeout (minutes)"
        type="number"
        values={values}
        errors={errors}
        placeholder="15"
        hint="Stopped after this long without a request, started again by the next one; 0 keeps it always on."
      />
      <Field
        name="maxInstances"
        label="Maximum instances"
        type="number"
        values={values}
        errors={errors}
        placeholder="1"
        hint="More instances start while every running one is busy, up to this many (1 to 20)."
      />
    </div>
  );
}

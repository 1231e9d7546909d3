// The fields of a project's source and build settings, shared by the create and settings pages.
/** @jsxImportSource preact */

import { Field, type FormErrors, type FormValues } from "../components/field.tsx";

const BUILD_FIELDS = [
  "rootDirectory",
  "installCommand",
  "buildCommand",
  "outputDirectory",
  "buildTimeoutSeconds",
];

export function SourceFields({ values, errors }: { values: FormValues; errors: FormErrors }) {
  return (
    <>
      <Field
        name="gitUrl"
        label="Git repository URL"
        values={values}
        errors={errors}
        placeholder="https://github.com/you/site.git"
        monospace
      />
      <Field
        name="productionBranch"
        label="Production branch"
        values={values}
        errors={errors}
        placeholder="main"
        hint="Pushes to this branch go to production; other branches get previews."
        monospace
      />
    </>
  );
}

/** Build overrides; collapsed unless one is set or has an error. */
export function BuildFields(props: { values: FormValues; errors: FormErrors; collapsible: boolean }) {
  const { values, errors, collapsible } = props;
  const fields = (
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
        placeholder="detected from the lockfile"
        monospace
      />
      <Field
        name="buildCommand"
        label="Build command"
        values={values}
        errors={errors}
        placeholder="detected from the framework"
        monospace
      />
      <Field
        name="outputDirectory"
        label="Output directory"
        values={values}
        errors={errors}
        placeholder="detected (dist, build, out, …)"
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
  if (!collapsible) return fields;
  const open = BUILD_FIELDS.some((f) => Boolean(values[f]) || Boolean(errors[f]));
  return (
    <details class="disclosure" open={open}>
      <summary>Build and output settings</summary>
      {fields}
    </details>
  );
}

// Create a project from a git URL, with optional build overrides and inline validation errors.
/** @jsxImportSource preact */

import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";
import { BuildFields, SourceFields } from "./project-form.tsx";

export function NewProjectPage(props: { chrome: Chrome; values: FormValues; errors: FormErrors }) {
  const { chrome, values, errors } = props;
  return (
    <Layout chrome={chrome} title="New project" nav="projects">
      <div class="page-head">
        <h1>New project</h1>
      </div>
      <section class="card narrow">
        <HxForm id="project-form" action="/projects" class="stack">
          <Csrf token={chrome.csrf} />
          <Field name="name" label="Project name" values={values} errors={errors} required autofocus />
          <SourceFields values={values} errors={errors} />
          <Field
            name="subDomain"
            label="Subdomain"
            values={values}
            errors={errors}
            placeholder="derived from the name"
            hint="Your site is served at <subdomain>.<your domain>."
            monospace
          />
          <BuildFields values={values} errors={errors} collapsible />
          <FormError errors={errors} />
          <div class="actions">
            <button type="submit" class="button primary">
              Create project
            </button>
            <a class="button" href="/">
              Cancel
            </a>
          </div>
        </HxForm>
      </section>
    </Layout>
  );
}

// Projects: the list, creating one, a project's deployments, and deploying it.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import type { FormErrors, FormValues } from "../../views/components/field.tsx";
import { NewProjectPage } from "../../views/pages/new-project.tsx";
import { ProjectPage } from "../../views/pages/project.tsx";
import { ProjectsPage } from "../../views/pages/projects.tsx";
import { buildsStatus } from "../build/readiness.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject, getProject } from "../deploy/projects.ts";
import { rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../serve/urls.ts";
import type { User } from "../store/store.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { SETTING_LABELS, type SettingField, toSettings } from "./project-input.ts";
import { html, redirect } from "./respond.ts";
import { requireSession } from "./session.ts";

const PAGE_SIZE = 20;
const CREATE_FIELDS: SettingField[] = [
  "name",
  "gitUrl",
  "productionBranch",
  "subDomain",
  "rootDirectory",
  "installCommand",
  "buildCommand",
  "outputDirectory",
  "buildTimeoutSeconds",
];
const ProjectForm = t.Object({
  ...CsrfField,
  ...Object.fromEntries(CREATE_FIELDS.map((f) => [f, Text()])),
});
const Id = t.Object({ id: t.String({ maxLength: 64 }) });
const Cursor = t.Object({ cursor: Text(500) });

export function projectRoutes({
  config,
  store,
  bus,
  runner,
}: Pick<Deps, "config" | "store" | "bus" | "runner">) {
  const builds = () => buildsStatus(config, runner);
  const projectPage = async (
    user: User,
    csrf: string,
    id: string,
    cursor: string | null,
    form: { values: FormValues; errors: FormErrors; status: number } = {
      values: {},
      errors: {},
      status: 200,
    },
  ) => {
    const project = await getProject(store, user.id, id);
    const page = await store.deployments.list(user.id, project.id, { limit: PAGE_SIZE, cursor });
    const view = (
      <ProjectPage
        chrome={chromeFor(user, csrf)}
        project={project}
        productionUrl={productionUrl(project, config)}
        deployments={page.items}
        nextCursor={page.nextCursor}
        now={new Date()}
        values={form.values}
        errors={form.errors}
        builds={builds()}
      />
    );
    return html(view, form.status);
  };

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/",
      async ({ user, csrf, query }) => {
        const page = await store.projects.list(user.id, { limit: PAGE_SIZE, cursor: query.cursor ?? null });
        const projects = await Promise.all(
          page.items.map(async (project) => {
            const latest = await store.deployments.list(user.id, project.id, { limit: 1, cursor: null });
            return {
              project,
              productionUrl: productionUrl(project, config),
              latest: latest.items[0] ?? null,
            };
          }),
        );
        return html(
          <ProjectsPage
            chrome={chromeFor(user, csrf)}
            projects={projects}
            nextCursor={page.nextCursor}
            builds={builds()}
          />,
        );
      },
      { query: Cursor },
    )
    .get("/projects/new", ({ user, csrf }) =>
      html(<NewProjectPage chrome={chromeFor(user, csrf)} values={{}} errors={{}} />),
    )
    .post(
      "/projects",
      async ({ user, csrf, body, request }) => {
        const values = valuesOf(body);
        try {
          const project = await createProject(
            store,
            config,
            user.id,
            toSettings(values, CREATE_FIELDS, "create"),
          );
          return redirect(request, `/projects/${project.id}`);
        } catch (error) {
          const errors = formErrors(error, SETTING_LABELS);
          if (!errors) throw error;
          return html(
            <NewProjectPage chrome={chromeFor(user, csrf)} values={values} errors={errors} />,
            errorStatus(error),
          );
        }
      },
      { body: ProjectForm },
    )
    .get(
      "/projects/:id",
      ({ user, csrf, params, query }) => projectPage(user, csrf, params.id, query.cursor ?? null),
      {
        params: Id,
        query: Cursor,
      },
    )
    .post(
      "/projects/:id/deploy",
      async ({ user, csrf, params, body, request }) => {
        const branch = body.branch?.trim() || undefined;
        try {
          const deployment = await queueDeployment(store, user.id, { projectId: params.id, branch });
          return redirect(request, `/deployments/${deployment.id}`);
        } catch (error) {
          const errors = formErrors(error, { branch: "Branch" });
          if (!errors) throw error;
          return projectPage(user, csrf, params.id, null, {
            values: valuesOf(body),
            errors,
            status: errorStatus(error),
          });
        }
      },
      { params: Id, body: t.Object({ ...CsrfField, branch: Text(300) }) },
    )
    .post(
      "/projects/:id/rollback",
      async ({ user, csrf, params, request }) => {
        try {
          // The same pointer swap as the API's POST /api/projects/:id/rollback.
          await rollbackProject(store, bus, user.id, params.id);
          return redirect(request, `/projects/${params.id}`);
        } catch (error) {
          const errors = formErrors(error, {});
          if (!errors) throw error;
          return projectPage(user, csrf, params.id, null, { values: {}, errors, status: errorStatus(error) });
        }
      },
      { params: Id },
    );
}

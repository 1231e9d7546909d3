// Projects: the list, creating one, a project's deployments, and deploying it.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import type { DetectionView } from "../../views/components/detected.tsx";
import type { FormErrors, FormValues } from "../../views/components/field.tsx";
import { NewProjectPage } from "../../views/pages/new-project.tsx";
import { type DeploymentFilterValues, ProjectPage } from "../../views/pages/project.tsx";
import { ProjectsPage } from "../../views/pages/projects.tsx";
import { Id } from "../api/schemas.ts";
import { allows, getProject, roleOn } from "../deploy/access.ts";
import type { Auditor } from "../deploy/audit.ts";
import { projectCrons } from "../deploy/crons.ts";
import { queueDeployment } from "../deploy/deploy.ts";
import { createProject } from "../deploy/projects.ts";
import { rollbackProject } from "../deploy/promote.ts";
import type { Deps } from "../deps.ts";
import { detectOptions, detectRemote } from "../git/detect-remote.ts";
import { listBranches } from "../git/ls-remote.ts";
import { commitUrl } from "../model/commit-links.ts";
import type { Project, User } from "../model/entities.ts";
import { STATUSES } from "../model/status.ts";
import { customDomainUrl, deploymentUrl, productionUrl } from "../model/urls.ts";
import type { DeploymentFilter } from "../store/store.ts";
import { buildsStatus } from "../worker/readiness.ts";
import { chromeFor } from "./assets.ts";
import { promotedPath } from "./deployments.tsx";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { detectedValues, FRAMEWORK_PRESETS, nameFromGitUrl, withPreset } from "./presets.ts";
import { previewView } from "./preview.ts";
import { SETTING_LABELS, type SettingField, toSettings } from "./project-input.ts";
import { html, redirect } from "./respond.ts";
import { pageScope } from "./scope.ts";
import { requireSession } from "./session.ts";
import { startInfo } from "./start.ts";
import { dashboardTeam } from "./teams.tsx";

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
  "startCommand",
];
const ProjectForm = t.Object({
  ...CsrfField,
  ...Object.fromEntries(CREATE_FIELDS.map((f) => [f, Text()])),
  framework: Text(50),
  team: Text(64),
});
const Cursor = t.Object({ cursor: Text(500), team: Text(64) });
const ListQuery = t.Object({
  cursor: Text(500),
  branch: Text(300),
  target: Text(50),
  status: Text(50),
  // After a promote or rollback (promotedPath): what production serves now, and what it served before.
  promoted: Text(36),
  from: Text(36),
});

/** The list's filters from the query: what was asked (to show it back), what the store gets, what was wrong. */
function parseFilter(query: { branch?: string; target?: string; status?: string }): {
  values: DeploymentFilterValues;
  filter: DeploymentFilter;
  error: string | null;
} {
  const values = {
    branch: query.branch?.trim() ?? "",
    target: query.target?.trim() ?? "",
    status: query.status?.trim() ?? "",
  };
  const filter: DeploymentFilter = {};
  const problems: string[] = [];
  if (values.branch !== "") filter.branch = values.branch;
  if (values.target === "production" || values.target === "preview") filter.target = values.target;
  else if (values.target !== "") problems.push("environment must be production or preview");
  const status = STATUSES.find((s) => s === values.status);
  if (status) filter.status = status;
  else if (values.status !== "") problems.push(`status must be one of ${STATUSES.join(", ")}`);
  const error = problems.length > 0 ? `Unknown filter: ${problems.join("; ")}.` : null;
  return { values, filter, error };
}

export function projectRoutes({
  config,
  store,
  bus,
  live,
  metrics,
  runner,
  artifacts,
  sealer,
  audit,
}: Pick<Deps, "config" | "store" | "bus" | "live" | "metrics" | "runner" | "artifacts" | "sealer"> & {
  audit: Auditor;
}) {
  const state = { store, live, bus, metrics };
  const builds = () => buildsStatus(config, runner);
  const projectPage = async (
    request: Request,
    user: User,
    csrf: string,
    id: string,
    list: {
      cursor?: string;
      branch?: string;
      target?: string;
      status?: string;
      promoted?: string;
      from?: string;
    },
    form: { values: FormValues; errors: FormErrors; status: number } = {
      values: {},
      errors: {},
      status: 200,
    },
  ) => {
    const project = await getProject(store, user.id, id, "read");
    const role = await roleOn(store, user.id, project);
    const filter = parseFilter(list);
    const cursor = list.cursor || null;
    const [page, crons, promoted, production] = await Promise.all([
      store.deployments.list(user.id, project.id, { limit: PAGE_SIZE, cursor }, filter.filter),
      projectCrons({ store, artifacts }, user.id, project.id),
      promotion(user, project, list.promoted, list.from),
      project.productionDeploymentId ? store.deployments.get(user.id, project.productionDeploymentId) : null,
    ]);
    const productionPreview = production ? await previewView(config, artifacts, production) : null;
    const view = (
      <ProjectPage
        chrome={chromeFor(user, csrf)}
        project={project}
        productionUrl={productionUrl(project, config)}
        deployments={page.items.map((deployment) => ({
          deployment,
          url: deploymentUrl(project, deployment.id, config),
        }))}
        nextCursor={page.nextCursor}
        filter={filter.values}
        filterError={filter.error}
        paged={cursor !== null}
        now={new Date()}
        values={form.values}
        errors={form.errors}
        builds={builds()}
        dropLimits={project.gitUrl ? null : startInfo(config, request).limits}
        crons={crons}
        promoted={promoted}
        production={production}
        domainUrl={project.customDomain ? customDomainUrl(project.customDomain, config) : null}
        productionCommitUrl={commitUrl(project.gitUrl, production?.commitSha ?? null)}
        productionPreview={productionPreview}
        canWrite={role !== null && allows(role, "write")}
      />
    );
    return html(view, form.status === 200 && filter.error ? 400 : form.status);
  };

  /**
   * The result of a promote or rollback, while it is still true: production serves `promotedId` (a later change, or
   * an address kept from before, shows nothing). `fromId` is the way back: the Undo.
   */
  const promotion = async (user: User, project: Project, promotedId?: string, fromId?: string) => {
    if (!promotedId || project.productionDeploymentId !== promotedId) return null;
    const [promoted, from] = await Promise.all([
      store.deployments.get(user.id, promotedId),
      fromId ? store.deployments.get(user.id, fromId) : null,
    ]);
    if (!promoted) return null;
    const undo = from && from.projectId === project.id && from.status === "READY" && from.expiredAt === null;
    return { promoted, from: undo ? from : null };
  };

  const newProjectPage = (
    request: Request,
    user: User,
    csrf: string,
    values: FormValues,
    errors: FormErrors,
    branches: string[] | null = null,
    detection: DetectionView | null = null,
  ) => (
    <NewProjectPage
      chrome={chromeFor(user, csrf)}
      values={values}
      errors={errors}
      branches={branches}
      detection={detection}
      presets={FRAMEWORK_PRESETS}
      start={startInfo(config, request)}
    />
  );

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/",
      async ({ user, csrf, sessionHash, query, request }) => {
        const { team, notice, headers } = await pageScope(
          { store, sealer },
          request,
          user,
          sessionHash,
          query.team,
        );
        const page = await store.projects.list(
          user.id,
          { limit: PAGE_SIZE, cursor: query.cursor ?? null },
          team?.id ?? null,
        );
        const teams = await store.teams.ofUser(user.id);
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
            start={startInfo(config, request)}
            scopes={{ current: team?.slug ?? null, teams }}
            notice={notice}
          />,
          200,
          headers,
        );
      },
      { query: Cursor },
    )
    .get(
      "/projects/new",
      async ({ user, csrf, sessionHash, query, request }) => {
        // From the projects page's "Import a git repository": the URL, and a name to start from. The repository is
        // read first (git ls-remote, under the rules of every git URL): its branches are offered, its default
        // branch is the production branch, and a URL that cannot be read says why before anything is created.
        const gitUrl = query.gitUrl?.trim() ?? "";
        const values: FormValues = gitUrl ? { gitUrl, name: nameFromGitUrl(gitUrl) } : {};
        if (query.team) values.team = (await dashboardTeam(store, user.id, query.team, "write"))?.slug ?? "";
        else {
          // Reached by a plain link: the remembered team, where the user may create projects (a viewer may not).
          const remembered = await pageScope({ store, sealer }, request, user, sessionHash, undefined);
          if (remembered.team && remembered.role !== "viewer") values.team = remembered.team.slug;
        }
        if (!gitUrl) return html(newProjectPage(request, user, csrf, values, {}));
        const remote = await listBranches(gitUrl, {
          allowLocal: config.allowLocalGit,
          allowPrivate: config.allowPrivateGit,
        });
        if (!remote.ok)
          return html(
            newProjectPage(request, user, csrf, values, { gitUrl: `Git repository URL ${remote.problem}` }),
          );
        if (remote.defaultBranch) values.productionBranch = remote.defaultBranch;
        // Then its files at the chosen branch (the default one first), read in the build sandbox: the detected
        // settings fill the form, to keep or edit before the first build.
        const asked = query.branch?.trim() ?? "";
        const branch = remote.branches.includes(asked) ? asked : (remote.defaultBranch ?? remote.branches[0]);
        if (!branch) return html(newProjectPage(request, user, csrf, values, {}, remote.branches));
        const detection = await detectRemote(gitUrl, branch, "", detectOptions(config));
        if (detection.ok) Object.assign(values, detectedValues(detection.settings));
        return html(
          newProjectPage(request, user, csrf, values, {}, remote.branches, { ...detection, branch }),
        );
      },
      { query: t.Object({ gitUrl: Text(2048), team: Text(64), branch: Text(300) }) },
    )
    .post(
      "/projects",
      async ({ user, csrf, body, request }) => {
        const values = valuesOf(body);
        try {
          const settings = toSettings(withPreset(values), CREATE_FIELDS, "create");
          const team = await dashboardTeam(store, user.id, body.team, "write");
          const project = await createProject(store, config, user.id, settings, team?.id ?? null);
          await audit.project(request, user, project, "project.create");
          if (!project.gitUrl) return redirect(request, `/projects/${project.id}`);
          // The first build starts at once: the user lands on its live log.
          const deployment = await queueDeployment(state, user.id, { projectId: project.id });
          await audit.project(
            request,
            user,
            project,
            "deployment.create",
            `${deployment.target} ${deployment.id}`,
          );
          return redirect(request, `/deployments/${deployment.id}`);
        } catch (error) {
          const errors = formErrors(error, SETTING_LABELS);
          if (!errors) throw error;
          return html(newProjectPage(request, user, csrf, values, errors), errorStatus(error));
        }
      },
      { body: ProjectForm },
    )
    .get(
      "/projects/:id",
      ({ user, csrf, params, query, request }) => projectPage(request, user, csrf, params.id, query),
      {
        params: Id,
        query: ListQuery,
      },
    )
    .post(
      "/projects/:id/deploy",
      async ({ user, csrf, params, body, request }) => {
        const branch = body.branch?.trim() || undefined;
        try {
          const deployment = await queueDeployment(state, user.id, { projectId: params.id, branch });
          const what = `${deployment.target} ${deployment.id}${branch ? ` of ${branch}` : ""}`;
          await audit.project(request, user, params.id, "deployment.create", what);
          return redirect(request, `/deployments/${deployment.id}`);
        } catch (error) {
          const errors = formErrors(error, { branch: "Branch" });
          if (!errors) throw error;
          return projectPage(
            request,
            user,
            csrf,
            params.id,
            {},
            {
              values: valuesOf(body),
              errors,
              status: errorStatus(error),
            },
          );
        }
      },
      { params: Id, body: t.Object({ ...CsrfField, branch: Text(300) }) },
    )
    .post(
      "/projects/:id/rollback",
      async ({ user, csrf, params, request }) => {
        try {
          // The same pointer swap as the API's POST /api/projects/:id/rollback.
          const project = await rollbackProject(store, bus, user.id, params.id);
          const to = `to deployment ${project.productionDeploymentId ?? "none"}`;
          await audit.project(request, user, project, "deployment.rollback", to);
          return redirect(request, promotedPath(project));
        } catch (error) {
          const errors = formErrors(error, {});
          if (!errors) throw error;
          return projectPage(
            request,
            user,
            csrf,
            params.id,
            {},
            {
              values: {},
              errors,
              status: errorStatus(error),
            },
          );
        }
      },
      { params: Id },
    );
}

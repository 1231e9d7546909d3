// Project settings: general, build, domains (the custom domains' own forms: domains.ts); environment variables;
// deleting the project.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import type { FormErrors, FormValues } from "../../views/components/field.tsx";
import { SettingsPage, type SettingsSection } from "../../views/pages/settings.tsx";
import { Id, IdAndKey } from "../api/schemas.ts";
import { getProject, roleOn } from "../deploy/access.ts";
import type { Auditor } from "../deploy/audit.ts";
import { verifyDomain } from "../deploy/domains.ts";
import { assertEnvKey, listEnvVars, removeEnvVar, setEnvVar } from "../deploy/env.ts";
import { deleteProject, updateProject } from "../deploy/projects.ts";
import {
  createBypassToken,
  listBypassTokens,
  revokeBypassToken,
  setProtectionMode,
  setProtectionPassword,
} from "../deploy/protection.ts";
import type { Deps } from "../deps.ts";
import { invalid } from "../errors.ts";
import { PROTECTION_MODES, type ProtectionMode, type User } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { chromeFor } from "./assets.ts";
import { domainSettingsRoutes } from "./domains.ts";
import { parseDotenv } from "./dotenv.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { SECTION_FIELDS, SETTING_LABELS, toSettings } from "./project-input.ts";
import { html, redirect } from "./respond.ts";
import { requireSession } from "./session.ts";

const SECTIONS = [
  "general",
  "build",
  "server",
  "domains",
  "verify",
  "domainAdd",
  "domain",
  "env",
  "envPaste",
  "delete",
  "protection",
  "password",
  "bypass",
] as const;
/** Saved sections whose change only a new deployment picks up: the page offers to redeploy production. */
const NEEDS_DEPLOY: readonly SettingsSection[] = ["build", "server", "env"];
const isSection = (value: string | null): value is SettingsSection =>
  value !== null && (SECTIONS as readonly string[]).includes(value);
const SettingsForm = t.Object({
  ...CsrfField,
  section: t.Union([t.Literal("general"), t.Literal("build"), t.Literal("server"), t.Literal("domains")]),
  ...Object.fromEntries(Object.keys(SETTING_LABELS).map((f) => [f, Text()])),
  spaFallback: Text(10),
});

/** The env form's fields as it labels them ("target" is its Environments checkboxes). */
const ENV_LABELS = { key: "Name", value: "Value", target: "Environments" };

interface Submitted {
  section: SettingsSection;
  values: FormValues;
  errors: FormErrors;
  status: number;
}

export function settingsRoutes({
  config,
  store,
  logs,
  runtimeLogs,
  analytics,
  sealer,
  artifacts,
  gc,
  bus,
  audit,
}: Pick<
  Deps,
  "config" | "store" | "logs" | "runtimeLogs" | "analytics" | "sealer" | "artifacts" | "gc" | "bus"
> & {
  audit: Auditor;
}) {
  const settingsPage = async (
    user: User,
    csrf: string,
    id: string,
    submitted: Submitted | null,
    saved: string | null,
    createdBypass: string | null = null,
  ) => {
    // Settings are the members' (env vars, domains); owners also see protection's bypass tokens.
    const project = await getProject(store, user.id, id, "write");
    const owner = (await roleOn(store, user.id, project)) === "owner";
    const savedSection = submitted === null && isSection(saved) ? saved : null;
    const view = (
      <SettingsPage
        chrome={chromeFor(user, csrf)}
        owner={owner}
        project={project}
        productionUrl={productionUrl(project, config)}
        sitesDomain={config.sitesDomain}
        env={await listEnvVars(store, user.id, project.id)}
        domains={await store.domains.list(project.id)}
        section={submitted?.section ?? savedSection}
        saved={savedSection !== null}
        values={submitted?.values ?? {}}
        errors={submitted?.errors ?? {}}
        redeploy={
          savedSection && NEEDS_DEPLOY.includes(savedSection) && project.productionDeploymentId
            ? { deploymentId: project.productionDeploymentId }
            : null
        }
        bypassTokens={owner ? await listBypassTokens(store, user.id, project.id) : []}
        createdBypass={createdBypass}
      />
    );
    return html(view, submitted?.status ?? 200);
  };

  /** Runs a settings action; a fixable error re-renders the page with it next to the field. */
  const attempt = async (
    ctx: { user: User; csrf: string; id: string; request: Request },
    section: SettingsSection,
    values: FormValues,
    labels: Record<string, string>,
    action: () => Promise<string>,
  ) => {
    try {
      return redirect(ctx.request, await action());
    } catch (error) {
      const errors = formErrors(error, labels);
      if (!errors) throw error;
      return settingsPage(
        ctx.user,
        ctx.csrf,
        ctx.id,
        { section, values, errors, status: errorStatus(error) },
        null,
      );
    }
  };

  return new Elysia()
    .use(requireSession(store))
    .use(domainSettingsRoutes({ store, bus, config, audit }, attempt))
    .get(
      "/projects/:id/settings",
      ({ user, csrf, params, query }) => settingsPage(user, csrf, params.id, null, query.saved ?? null),
      { params: Id, query: t.Object({ saved: Text(20) }) },
    )
    .post(
      "/projects/:id/settings",
      ({ user, csrf, params, body, request }) => {
        const values = valuesOf(body);
        const fields = SECTION_FIELDS[body.section];
        return attempt(
          { user, csrf, id: params.id, request },
          body.section,
          values,
          SETTING_LABELS,
          async () => {
            // The same function the API's PATCH /api/projects/:id calls.
            const settings = toSettings(values, fields, "update");
            // An unticked checkbox sends nothing: in the build section that means off.
            if (body.section === "build") settings.spaFallback = body.spaFallback === "on";
            const saved = await updateProject({ store, bus }, config, user.id, params.id, settings);
            await audit.project(
              request,
              user,
              saved,
              "project.settings",
              Object.keys(settings).sort().join(", "),
            );
            return `/projects/${params.id}/settings?saved=${body.section}#${body.section}-form`;
          },
        );
      },
      { params: Id, body: SettingsForm },
    )
    .post(
      "/projects/:id/domain/verify",
      ({ user, csrf, params, request }) =>
        attempt({ user, csrf, id: params.id, request }, "verify", {}, {}, async () => {
          // The same function the API's POST /api/projects/:id/domain/verify calls.
          const verified = await verifyDomain({ store, bus, config }, user.id, params.id);
          await audit.project(request, user, verified, "domain.verify", verified.customDomain);
          return `/projects/${params.id}/settings#verify`;
        }),
      { params: Id, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/projects/:id/env",
      ({ user, csrf, params, body, request }) =>
        attempt({ user, csrf, id: params.id, request }, "env", valuesOf(body), ENV_LABELS, async () => {
          // The environments' checkboxes: a ticked one is sent (as "on"), an unticked one is not.
          const ticked = (["production", "preview"] as const).filter((target) => body[target]);
          await setEnvVar(
            store,
            sealer,
            user.id,
            params.id,
            (body.key ?? "").trim(),
            body.value ?? "",
            ticked,
          );
          await audit.project(
            request,
            user,
            params.id,
            "env.set",
            `${(body.key ?? "").trim()} (${ticked.join(", ")})`,
          );
          return `/projects/${params.id}/settings?saved=env#env`;
        }),
      {
        params: Id,
        body: t.Object({
          ...CsrfField,
          key: Text(200),
          value: Text(70_000),
          production: Text(20),
          preview: Text(20),
        }),
      },
    )
    .post(
      "/projects/:id/env/paste",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "envPaste",
          valuesOf(body),
          { dotenv: ".env", target: "Environments" },
          async () => {
            const ticked = (["production", "preview"] as const).filter((target) => body[target]);
            const entries = parseDotenv(body.dotenv ?? "");
            // Checked first, all of them: a paste with a bad name saves nothing (and says which line).
            await getProject(store, user.id, params.id, "write");
            for (const { line, key } of entries) {
              try {
                assertEnvKey(key);
              } catch (error) {
                const message = error instanceof Error ? error.message : "not a variable name";
                throw invalid(`line ${line}: ${message}`, "dotenv");
              }
            }
            if (ticked.length === 0) throw invalid("choose at least one environment", "target");
            for (const { key, value } of entries) {
              await setEnvVar(store, sealer, user.id, params.id, key, value, ticked);
              await audit.project(request, user, params.id, "env.set", `${key} (${ticked.join(", ")})`);
            }
            return `/projects/${params.id}/settings?saved=env#env`;
          },
        ),
      {
        params: Id,
        body: t.Object({ ...CsrfField, dotenv: Text(200_000), production: Text(20), preview: Text(20) }),
      },
    )
    .post(
      "/projects/:id/env/:key/delete",
      ({ user, csrf, params, body, request }) =>
        attempt({ user, csrf, id: params.id, request }, "env", {}, ENV_LABELS, async () => {
          // A variable of one environment names it; without, the key goes from both.
          const targets = body.target ? [body.target] : undefined;
          await removeEnvVar(store, user.id, params.id, params.key, targets);
          await audit.project(
            request,
            user,
            params.id,
            "env.remove",
            `${params.key} (${body.target || "all"})`,
          );
          return `/projects/${params.id}/settings?saved=env#env`;
        }),
      { params: IdAndKey, body: t.Object({ ...CsrfField, target: Text(20) }) },
    )
    .post(
      "/projects/:id/protection",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "protection",
          valuesOf(body),
          { protection: "Protect" },
          async () => {
            const mode = body.protection ?? "";
            if (!(PROTECTION_MODES as readonly string[]).includes(mode))
              throw invalid("choose none, previews or all", "protection");
            // The same operation as the API's PATCH /api/projects/:id with `protection`.
            await setProtectionMode({ store, bus }, user.id, params.id, mode as ProtectionMode);
            await audit.project(request, user, params.id, "project.settings", `protection ${mode}`);
            return `/projects/${params.id}/settings?saved=protection#protection`;
          },
        ),
      { params: Id, body: t.Object({ ...CsrfField, protection: Text(20) }) },
    )
    .post(
      "/projects/:id/protection/password",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "password",
          {},
          { password: "Password" },
          async () => {
            await setProtectionPassword({ store, bus }, user.id, params.id, body.password ?? "");
            await audit.project(request, user, params.id, "protection.password.set");
            return `/projects/${params.id}/settings?saved=password#protection`;
          },
        ),
      { params: Id, body: t.Object({ ...CsrfField, password: Text(1100) }) },
    )
    .post(
      "/projects/:id/protection/password/delete",
      ({ user, csrf, params, request }) =>
        attempt({ user, csrf, id: params.id, request }, "password", {}, {}, async () => {
          await setProtectionPassword({ store, bus }, user.id, params.id, null);
          await audit.project(request, user, params.id, "protection.password.remove");
          return `/projects/${params.id}/settings#protection`;
        }),
      { params: Id, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/projects/:id/protection/bypass",
      async ({ user, csrf, params, body, request }) => {
        const values = valuesOf(body);
        try {
          const { token, record } = await createBypassToken(
            { store, bus },
            user.id,
            params.id,
            body.tokenName ?? "",
          );
          await audit.project(request, user, params.id, "protection.bypass.create", `token ${record.name}`);
          // Shown once, on this answer: no redirect, which would lose it.
          return await settingsPage(user, csrf, params.id, null, null, token);
        } catch (error) {
          return attempt(
            { user, csrf, id: params.id, request },
            "bypass",
            values,
            { name: "Token name" },
            () => Promise.reject(error),
          );
        }
      },
      { params: Id, body: t.Object({ ...CsrfField, tokenName: Text(200) }) },
    )
    .post(
      "/projects/:id/protection/bypass/:tokenId/revoke",
      ({ user, csrf, params, request }) =>
        attempt({ user, csrf, id: params.id, request }, "bypass", {}, {}, async () => {
          await revokeBypassToken({ store, bus }, user.id, params.id, params.tokenId);
          await audit.project(
            request,
            user,
            params.id,
            "protection.bypass.revoke",
            `token ${params.tokenId}`,
          );
          return `/projects/${params.id}/settings#protection`;
        }),
      {
        params: t.Object({ id: Id.properties.id, tokenId: t.String({ minLength: 1, maxLength: 64 }) }),
        body: t.Object({ ...CsrfField }),
      },
    )
    .post(
      "/projects/:id/delete",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "delete",
          valuesOf(body),
          { confirm: "Confirmation" },
          async () => {
            const project = await getProject(store, user.id, params.id, "admin");
            if ((body.confirm ?? "").trim() !== project.name) {
              throw invalid("type the project name exactly as shown to confirm", "confirm");
            }
            // The same function the API's DELETE /api/projects/:id calls.
            await deleteProject(
              { store, logs, runtimeLogs, analytics, artifacts, gc, bus },
              user.id,
              project.id,
            );
            await audit.project(request, user, project, "project.delete");
            return "/";
          },
        ),
      { params: Id, body: t.Object({ ...CsrfField, confirm: Text(200) }) },
    );
}

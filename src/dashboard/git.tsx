// A project's Git page: webhook URLs and secret, the last deliveries, commit statuses and PR comments (the git
// provider setting), outgoing webhooks with their delivery logs and redelivery, the push remote and the CLI command.
/** @jsxImportSource preact */

import { Elysia, t } from "elysia";
import { GitPage, type GitPageProps } from "../../views/pages/git.tsx";
import { HookDeliveriesPage } from "../../views/pages/hook-deliveries.tsx";
import { Id } from "../api/schemas.ts";
import type { Auditor } from "../deploy/audit.ts";
import { removeGitProvider, setGitProvider, showGitProvider } from "../deploy/git-provider.ts";
import { createHook, deleteHook, hookDeliveries, listHooks, redeliver } from "../deploy/hooks.ts";
import { WEBHOOK_LOG_KEEP, webhookSecret } from "../deploy/webhooks.ts";
import type { Deps } from "../deps.ts";
import { invalid, notFound } from "../errors.ts";
import type { User } from "../model/entities.ts";
import { productionUrl } from "../model/urls.ts";
import { GIT_PROVIDER_KINDS, type GitProviderKind } from "../store/git-reports.ts";
import { HOOK_EVENTS, type HookFormat } from "../store/outgoing-hooks.ts";
import { chromeFor } from "./assets.ts";
import { CsrfField, errorStatus, formErrors, Text, valuesOf } from "./forms.ts";
import { html, redirect } from "./respond.ts";
import { requireSession } from "./session.ts";
import { startInfo } from "./start.ts";

const PROVIDERS = [
  { provider: "github", label: "GitHub" },
  { provider: "gitlab", label: "GitLab" },
  { provider: "gitea", label: "Gitea / Forgejo" },
];
const PROVIDER_LABELS = {
  kind: "Git host",
  token: "Access token",
  apiUrl: "API URL",
  repository: "Repository",
};
const HOOK_LABELS = { url: "URL", events: "Events", format: "Format" };
const FORMATS: HookFormat[] = ["standard", "slack", "discord"];

const IdAndHook = t.Object({ id: Id.properties.id, hookId: t.String({ minLength: 1, maxLength: 64 }) });
const IdHookDelivery = t.Object({
  ...IdAndHook.properties,
  deliveryId: t.String({ minLength: 1, maxLength: 64 }),
});
const EventFields = Object.fromEntries(HOOK_EVENTS.map((e) => [e, Text(20)]));

type Extra = Partial<Pick<GitPageProps, "form" | "created" | "saved">> & { status?: number };

export function gitRoutes({
  config,
  store,
  sealer,
  audit,
}: Pick<Deps, "config" | "store" | "sealer"> & { audit: Auditor }) {
  const gitPage = async (user: User, csrf: string, id: string, request: Request, extra: Extra = {}) => {
    const { project, provider, reports } = await showGitProvider(store, user.id, id);
    // The owner's secret, made on first view as GET /api/projects/:id/webhook makes it.
    const [secret, deliveries, hooks] = await Promise.all([
      webhookSecret({ store, sealer }, user.id, project.id),
      store.webhooks.recentDeliveries(project.id, WEBHOOK_LOG_KEEP),
      listHooks(store, user.id, project.id),
    ]);
    const { serverUrl } = startInfo(config, request);
    const hook = `${serverUrl}/api/hooks/${encodeURIComponent(project.id)}`;
    return html(
      <GitPage
        chrome={chromeFor(user, csrf)}
        project={project}
        productionUrl={productionUrl(project, config)}
        hookUrls={PROVIDERS.map((p) => ({ ...p, url: `${hook}/${p.provider}` }))}
        secret={secret}
        deliveries={deliveries}
        serverUrl={serverUrl}
        provider={provider}
        reports={reports}
        hooks={hooks}
        form={extra.form ?? null}
        created={extra.created ?? null}
        saved={extra.saved ?? false}
      />,
      extra.status ?? 200,
    );
  };

  /** Runs a form's action: its answer on success, else the page again with the form's inline errors. */
  const attempt = async (
    ctx: { user: User; csrf: string; id: string; request: Request },
    section: "provider" | "hooks",
    body: Record<string, string | undefined>,
    labels: Record<string, string>,
    action: () => Promise<Response>,
  ) => {
    try {
      return await action();
    } catch (error) {
      const errors = formErrors(error, labels);
      if (!errors) throw error;
      const values = valuesOf(body);
      delete values.token;
      return gitPage(ctx.user, ctx.csrf, ctx.id, ctx.request, {
        form: { section, values, errors },
        status: errorStatus(error),
      });
    }
  };

  return new Elysia()
    .use(requireSession(store))
    .get(
      "/projects/:id/git",
      ({ user, csrf, params, request, query }) =>
        gitPage(user, csrf, params.id, request, { saved: query.saved === "provider" }),
      { params: Id, query: t.Object({ saved: Text(20) }) },
    )
    .post(
      "/projects/:id/git-provider",
      ({ user, csrf, params, body, request }) =>
        attempt({ user, csrf, id: params.id, request }, "provider", body, PROVIDER_LABELS, async () => {
          const kind = body.kind ?? "";
          if (!(GIT_PROVIDER_KINDS as readonly string[]).includes(kind))
            throw invalid("choose GitHub, GitLab or Gitea", "kind");
          // The same function the API's PUT /api/projects/:id/git-provider calls.
          const saved = await setGitProvider({ store, sealer, config }, user.id, params.id, {
            kind: kind as GitProviderKind,
            token: body.token ?? "",
            apiUrl: body.apiUrl ?? null,
            repository: body.repository ?? null,
          });
          await audit.project(request, user, params.id, "git-provider.set", `${saved.kind} ${saved.apiUrl}`);
          return redirect(request, `/projects/${params.id}/git?saved=provider#git-provider`);
        }),
      {
        params: Id,
        body: t.Object({
          ...CsrfField,
          kind: Text(20),
          token: Text(600),
          apiUrl: Text(2048),
          repository: Text(300),
        }),
      },
    )
    .post(
      "/projects/:id/git-provider/delete",
      async ({ user, params, request }) => {
        await removeGitProvider(store, user.id, params.id);
        await audit.project(request, user, params.id, "git-provider.remove");
        return redirect(request, `/projects/${params.id}/git#git-provider`);
      },
      { params: Id, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/projects/:id/hooks",
      ({ user, csrf, params, body, request }) => {
        const fields = body as Record<string, string | undefined>;
        return attempt({ user, csrf, id: params.id, request }, "hooks", fields, HOOK_LABELS, async () => {
          const format = (body.format ?? "standard") as HookFormat;
          if (!FORMATS.includes(format)) throw invalid("choose standard, Slack or Discord", "format");
          // The same function the API's POST /api/projects/:id/hooks calls; its secret is shown this once.
          const created = await createHook({ store, sealer, config }, user.id, params.id, {
            url: (body.url ?? "").trim(),
            events: HOOK_EVENTS.filter((e) => fields[e] === "on"),
            format,
          });
          await audit.project(request, user, params.id, "hook.create", `hook ${created.hook.id}`);
          return gitPage(user, csrf, params.id, request, {
            created: { hookId: created.hook.id, secret: created.secret },
          });
        });
      },
      { params: Id, body: t.Object({ ...CsrfField, url: Text(2048), format: Text(20), ...EventFields }) },
    )
    .post(
      "/projects/:id/hooks/:hookId/delete",
      async ({ user, params, request }) => {
        await deleteHook(store, user.id, params.id, params.hookId);
        await audit.project(request, user, params.id, "hook.delete", `hook ${params.hookId}`);
        return redirect(request, `/projects/${params.id}/git#outgoing-hooks`);
      },
      { params: IdAndHook, body: t.Object({ ...CsrfField }) },
    )
    .get(
      "/projects/:id/hooks/:hookId",
      async ({ user, csrf, params, query }) => {
        const hook = (await listHooks(store, user.id, params.id)).find((h) => h.id === params.hookId);
        if (!hook) throw notFound("hook");
        const project = await store.projects.get(user.id, params.id);
        if (!project) throw notFound("project");
        return html(
          <HookDeliveriesPage
            chrome={chromeFor(user, csrf)}
            project={project}
            productionUrl={productionUrl(project, config)}
            hook={hook}
            deliveries={await hookDeliveries(store, user.id, params.id, hook.id, 100)}
            queued={query.queued ?? null}
          />,
        );
      },
      { params: IdAndHook, query: t.Object({ queued: Text(64) }) },
    )
    .post(
      "/projects/:id/hooks/:hookId/deliveries/:deliveryId/redeliver",
      async ({ user, params, request }) => {
        const queued = await redeliver(store, user.id, params.id, params.hookId, params.deliveryId);
        return redirect(
          request,
          `/projects/${params.id}/hooks/${params.hookId}?queued=${encodeURIComponent(queued.id)}`,
        );
      },
      { params: IdHookDelivery, body: t.Object({ ...CsrfField }) },
    );
}

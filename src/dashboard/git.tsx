// A project's Git page: webhook URLs and secret, the last deliveries, the push remote and the CLI command.
/** @jsxImportSource preact */

import { Elysia } from "elysia";
import { GitPage } from "../../views/pages/git.tsx";
import { Id } from "../api/schemas.ts";
import { getProject } from "../deploy/access.ts";
import { WEBHOOK_LOG_KEEP, webhookSecret } from "../deploy/webhooks.ts";
import type { Deps } from "../deps.ts";
import { productionUrl } from "../model/urls.ts";
import { chromeFor } from "./assets.ts";
import { html } from "./respond.ts";
import { requireSession } from "./session.ts";
import { startInfo } from "./start.ts";

const PROVIDERS = [
  { provider: "github", label: "GitHub" },
  { provider: "gitlab", label: "GitLab" },
  { provider: "gitea", label: "Gitea / Forgejo" },
];

export function gitRoutes({ config, store, sealer }: Pick<Deps, "config" | "store" | "sealer">) {
  return new Elysia().use(requireSession(store)).get(
    "/projects/:id/git",
    async ({ user, csrf, params, request }) => {
      const project = await getProject(store, user.id, params.id, "admin");
      // The owner's secret, made on first view as GET /api/projects/:id/webhook makes it.
      const [secret, deliveries] = await Promise.all([
        webhookSecret({ store, sealer }, user.id, project.id),
        store.webhooks.recentDeliveries(project.id, WEBHOOK_LOG_KEEP),
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
        />,
      );
    },
    { params: Id },
  );
}

// Project settings, custom domains: add (with the www pair), verify, redirect and remove each one. The same
// functions as the API's /api/projects/:id/domains; errors re-render the settings page beside the form.

import { Elysia, t } from "elysia";
import type { FormValues } from "../../views/components/field.tsx";
import type { SettingsSection } from "../../views/pages/settings.tsx";
import { Id } from "../api/schemas.ts";
import type { Auditor } from "../deploy/audit.ts";
import { verifyDomain } from "../deploy/domains.ts";
import { addDomain, removeDomain, updateDomain } from "../deploy/project-domains.ts";
import type { Deps } from "../deps.ts";
import { invalid } from "../errors.ts";
import { REDIRECT_STATUSES, type RedirectStatus } from "../model/domains.ts";
import type { User } from "../model/entities.ts";
import { CsrfField, Text, valuesOf } from "./forms.ts";
import { requireSession } from "./session.ts";

/** settings.tsx's runner: the action's redirect, or the settings page again with the error beside the form. */
export type SettingsAttempt = (
  ctx: { user: User; csrf: string; id: string; request: Request },
  section: SettingsSection,
  values: FormValues,
  labels: Record<string, string>,
  action: () => Promise<string>,
) => Promise<Response>;

const IdAndDomain = t.Object({ id: Id.properties.id, domain: t.String({ minLength: 1, maxLength: 253 }) });
const BACK = "#custom-domains";

function statusOf(value: string | undefined): RedirectStatus | undefined {
  if (value === undefined || value === "") return undefined;
  const status = REDIRECT_STATUSES.find((s) => String(s) === value);
  if (status === undefined)
    throw invalid("the redirect status must be 308, 301, 307 or 302", "redirectStatus");
  return status;
}

export function domainSettingsRoutes(
  { store, bus, config, audit }: Pick<Deps, "store" | "bus" | "config"> & { audit: Auditor },
  attempt: SettingsAttempt,
) {
  const settings = (id: string) => `/projects/${id}/settings${BACK}`;
  return new Elysia()
    .use(requireSession(store))
    .post(
      "/projects/:id/domains",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "domainAdd",
          valuesOf(body),
          { name: "Domain" },
          async () => {
            const { project } = await addDomain({ store, bus }, config, user.id, params.id, {
              name: body.domain ?? "",
              www: body.www === "on",
            });
            const what = `${(body.domain ?? "").trim().toLowerCase()}${body.www === "on" ? " (with www)" : ""}`;
            await audit.project(request, user, project, "domain.add", what);
            return settings(params.id);
          },
        ),
      { params: Id, body: t.Object({ ...CsrfField, domain: Text(300), www: Text(10) }) },
    )
    .post(
      "/projects/:id/domains/:domain/verify",
      ({ user, csrf, params, request }) =>
        attempt({ user, csrf, id: params.id, request }, "domain", { domain: params.domain }, {}, async () => {
          const project = await verifyDomain({ store, bus, config }, user.id, params.id, params.domain);
          await audit.project(request, user, project, "domain.verify", params.domain.toLowerCase());
          return settings(params.id);
        }),
      { params: IdAndDomain, body: t.Object({ ...CsrfField }) },
    )
    .post(
      "/projects/:id/domains/:domain/redirect",
      ({ user, csrf, params, body, request }) =>
        attempt(
          { user, csrf, id: params.id, request },
          "domain",
          { ...valuesOf(body), domain: params.domain },
          {},
          async () => {
            const redirectTo = body.redirectTo ? body.redirectTo : null;
            const status = statusOf(body.redirectStatus);
            const saved = await updateDomain({ store, bus }, config, user.id, params.id, params.domain, {
              redirectTo,
              ...(redirectTo !== null && status !== undefined && { redirectStatus: status }),
            });
            const to = saved.redirectTo
              ? `redirects to ${saved.redirectTo} (${saved.redirectStatus})`
              : "serves";
            await audit.project(request, user, params.id, "domain.redirect", `${saved.name} ${to}`);
            return settings(params.id);
          },
        ),
      {
        params: IdAndDomain,
        body: t.Object({ ...CsrfField, redirectTo: Text(300), redirectStatus: Text(10) }),
      },
    )
    .post(
      "/projects/:id/domains/:domain/remove",
      ({ user, csrf, params, request }) =>
        attempt({ user, csrf, id: params.id, request }, "domain", { domain: params.domain }, {}, async () => {
          await removeDomain({ store, bus }, user.id, params.id, params.domain);
          await audit.project(request, user, params.id, "domain.remove", params.domain.toLowerCase());
          return settings(params.id);
        }),
      { params: IdAndDomain, body: t.Object({ ...CsrfField }) },
    );
}

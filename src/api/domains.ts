// /api/projects/:id/domains: a project's custom domains, each verified on its own, some redirecting to another.

import { Elysia, t } from "elysia";
import type { Auditor } from "../deploy/audit.ts";
import { verifyDomain } from "../deploy/domains.ts";
import { addDomain, listDomains, removeDomain, updateDomain } from "../deploy/project-domains.ts";
import type { Deps } from "../deps.ts";
import { notFound } from "../errors.ts";
import {
  type ProjectDomain,
  ProjectDomainSchema,
  RedirectStatusSchema,
  recordFor,
} from "../model/domains.ts";
import { requireUser } from "./auth.ts";
import { errorResponse, Id, NoContent } from "./schemas.ts";

const IdAndDomain = t.Object({
  id: Id.properties.id,
  domain: t.String({ minLength: 1, maxLength: 253, description: "the domain's name" }),
});

const Domain = t.Object({
  ...ProjectDomainSchema.properties,
  verification: t.Object(
    { type: t.Literal("TXT"), name: t.String(), value: t.String() },
    { description: "the DNS record that proves control of this domain (kept after it is verified)" },
  ),
});
const DomainList = t.Object({
  items: t.Array(Domain, { description: "the project's domains; the first is its customDomain" }),
});

const view = (d: ProjectDomain, domainToken: string) => ({
  ...d,
  verification: recordFor(d.name, domainToken),
});

export function domainRoutes({
  store,
  bus,
  config,
  auth,
  audit,
}: Pick<Deps, "store" | "bus" | "config" | "auth"> & { audit: Auditor }) {
  // Statuses of these routes' own; authentication, validation, body and rate limits: docs-responses.ts.
  const missing = { 404: errorResponse("No such project (or not yours), or no such domain on it.") };
  const invalidRedirect = {
    422: errorResponse("A name that is no host, or a redirect to no serving domain of this project."),
  };
  return new Elysia({ tags: ["domains"] })
    .use(requireUser(auth))
    .get(
      "/projects/:id/domains",
      async ({ user, params }) => {
        const { project, domains } = await listDomains(store, user.id, params.id);
        return { items: domains.map((d) => view(d, project.domainToken)) };
      },
      {
        params: Id,
        response: { 200: DomainList, ...missing },
        detail: { summary: "List a project's custom domains with their state and DNS record" },
      },
    )
    .post(
      "/projects/:id/domains",
      async ({ request, user, params, body, set }) => {
        const { project, domains } = await addDomain({ store, bus }, config, user.id, params.id, body);
        await audit.project(
          request,
          user,
          project,
          "domain.add",
          `${body.name}${body.www ? " (with www)" : ""}`,
        );
        set.status = 201;
        return { items: domains.map((d) => view(d, project.domainToken)) };
      },
      {
        params: Id,
        body: t.Object(
          {
            name: t.String({ minLength: 1, maxLength: 253 }),
            redirectTo: t.Optional(t.Union([t.String({ maxLength: 253 }), t.Null()])),
            redirectStatus: t.Optional(RedirectStatusSchema),
            www: t.Optional(
              t.Boolean({
                description:
                  "also add www.<name> (served) and redirect <name> to it (308 unless redirectStatus)",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        parse: "json",
        response: {
          201: DomainList,
          ...missing,
          409: errorResponse(
            "The project has this domain already, another project verified it, or the project holds 50 domains.",
          ),
          ...invalidRedirect,
        },
        detail: {
          summary: "Add a custom domain",
          description:
            "It is served (or redirects) once its TXT record is verified (POST .../domains/{domain}/verify), or at " +
            "once with DOMAIN_VERIFICATION=off. Answers the project's domains.",
        },
      },
    )
    .patch(
      "/projects/:id/domains/:domain",
      async ({ request, user, params, body }) => {
        const saved = await updateDomain({ store, bus }, config, user.id, params.id, params.domain, body);
        const project = await store.projects.get(user.id, params.id);
        if (!project) throw notFound("project");
        const to = saved.redirectTo ? `redirects to ${saved.redirectTo} (${saved.redirectStatus})` : "serves";
        await audit.project(request, user, project, "domain.redirect", `${saved.name} ${to}`);
        return view(saved, project.domainToken);
      },
      {
        params: IdAndDomain,
        body: t.Object(
          {
            redirectTo: t.Optional(t.Union([t.String({ maxLength: 253 }), t.Null()])),
            redirectStatus: t.Optional(RedirectStatusSchema),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        parse: "json",
        response: { 200: Domain, ...missing, ...invalidRedirect },
        detail: {
          summary: "Set or clear a domain's redirect",
          description:
            "redirectTo: another domain of the project that serves the site (null: serve it here); the path and " +
            "query are kept. redirectStatus: 308 (default), 301, 302 or 307.",
        },
      },
    )
    .delete(
      "/projects/:id/domains/:domain",
      async ({ request, user, params, set }) => {
        await removeDomain({ store, bus }, user.id, params.id, params.domain);
        await audit.project(request, user, params.id, "domain.remove", params.domain.toLowerCase());
        set.status = 204;
      },
      {
        params: IdAndDomain,
        response: { 204: NoContent, ...missing },
        detail: {
          summary: "Remove a custom domain",
          description: "Domains of the project that redirected to it serve the site again.",
        },
      },
    )
    .post(
      "/projects/:id/domains/:domain/verify",
      async ({ request, user, params }) => {
        const project = await verifyDomain({ store, bus, config }, user.id, params.id, params.domain);
        await audit.project(request, user, project, "domain.verify", params.domain.toLowerCase());
        const domain = (await store.domains.list(project.id)).find(
          (d) => d.name === params.domain.toLowerCase(),
        );
        if (!domain) throw notFound("domain");
        return view(domain, project.domainToken);
      },
      {
        params: IdAndDomain,
        response: {
          200: Domain,
          ...missing,
          409: errorResponse("Another project verified this domain first."),
          422: errorResponse("The domain's TXT record is missing or wrong."),
        },
        detail: {
          summary: "Verify a custom domain",
          description:
            "Looks up the TXT record in `verification`; once it matches, the domain is served (or redirects) and can " +
            "get a certificate, and other projects' unverified claims of it are removed.",
        },
      },
    );
}

// Teams: the ones you belong to (with your role), and creating one.
/** @jsxImportSource preact */

import { Field, FormError, type FormErrors, type FormValues } from "../components/field.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export interface TeamSummary {
  slug: string;
  name: string;
  role: string;
}

export function TeamsPage(props: {
  chrome: Chrome;
  teams: TeamSummary[];
  values: FormValues;
  errors: FormErrors;
}) {
  const { chrome, teams, values, errors } = props;
  return (
    <Layout chrome={chrome} title="Teams" nav="teams">
      <div class="page-head">
        <h1>Teams</h1>
        <p class="muted">
          Projects belong to your personal scope or to a team. <a href="/audit">Your personal audit log</a>
        </p>
      </div>
      <section class="card" aria-labelledby="teams-title">
        <h2 id="teams-title">Your teams</h2>
        {teams.length === 0 ? (
          <p class="empty">You are in no team yet.</p>
        ) : (
          <ul class="list" id="team-list">
            {teams.map((t) => (
              <li key={t.slug}>
                <a href={`/teams/${encodeURIComponent(t.slug)}`}>{t.name}</a>{" "}
                <span class="muted mono">{t.slug}</span> <span class="badge">{t.role}</span>{" "}
                <a href={`/?team=${encodeURIComponent(t.slug)}`}>Projects</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" aria-labelledby="create-title">
        <h2 id="create-title">Create a team</h2>
        <form method="post" action="/teams" class="stack" id="team-form">
          <Csrf token={chrome.csrf} />
          <FormError errors={errors} />
          <Field
            name="slug"
            label="Slug"
            values={values}
            errors={errors}
            hint="e.g. acme-web: lowercase, digits, hyphens"
          />
          <Field name="name" label="Name" values={values} errors={errors} />
          <button type="submit" class="button primary">
            Create team
          </button>
        </form>
      </section>
    </Layout>
  );
}

// The scope switcher: the personal scope and each of the user's teams, the one shown marked. Each is a small form
// (POST /scope with the session's CSRF token): the choice is remembered, so plain links stay in that scope.
/** @jsxImportSource preact */

import { Csrf } from "../layout.tsx";

export interface Scopes {
  /** The team shown (its slug), or null for the personal scope. */
  current: string | null;
  teams: { slug: string; name: string; role: string }[];
}

function Choice(props: { csrf: string; slug: string; label: string; current: boolean; title?: string }) {
  return (
    <form method="post" action="/scope" class="inline-form">
      <Csrf token={props.csrf} />
      <input type="hidden" name="team" value={props.slug} />
      <button
        type="submit"
        class="link-button"
        aria-current={props.current ? "page" : undefined}
        title={props.title}
      >
        {props.label}
      </button>
    </form>
  );
}

export function ScopeSwitcher({ scopes, csrf }: { scopes: Scopes; csrf: string }) {
  if (scopes.teams.length === 0) return null;
  return (
    <nav class="scope-switcher" aria-label="Scope">
      <Choice csrf={csrf} slug="" label="Personal" current={scopes.current === null} />
      {scopes.teams.map((t) => (
        <Choice
          key={t.slug}
          csrf={csrf}
          slug={t.slug}
          label={t.name}
          current={scopes.current === t.slug}
          title={`your role: ${t.role}`}
        />
      ))}
      <a href="/teams">Manage teams</a>
    </nav>
  );
}

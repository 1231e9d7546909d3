// The scope switcher: the personal scope and each of the user's teams, the one shown marked.
/** @jsxImportSource preact */

export interface Scopes {
  /** The team shown (its slug), or null for the personal scope. */
  current: string | null;
  teams: { slug: string; name: string; role: string }[];
}

export function ScopeSwitcher({ scopes }: { scopes: Scopes }) {
  if (scopes.teams.length === 0) return null;
  return (
    <nav class="scope-switcher" aria-label="Scope">
      <a href="/" aria-current={scopes.current === null ? "page" : undefined}>
        Personal
      </a>
      {scopes.teams.map((t) => (
        <a
          key={t.slug}
          href={`/?team=${encodeURIComponent(t.slug)}`}
          aria-current={scopes.current === t.slug ? "page" : undefined}
          title={`your role: ${t.role}`}
        >
          {t.name}
        </a>
      ))}
      <a href="/teams">Manage teams</a>
    </nav>
  );
}

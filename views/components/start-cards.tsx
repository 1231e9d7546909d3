// The ways to a first deployment besides dropping files: import a git repository, or the command line.
/** @jsxImportSource preact */

import type { DropLimits } from "./drop-zone.tsx";

/** What the pages offering a first deployment need from the server. */
export interface StartInfo {
  limits: DropLimits;
  /** This dashboard's own address, for `minivercel login`. */
  serverUrl: string;
}

/** A git URL, then the full form at /projects/new (framework, build settings) before the first deploy. */
export function GitImportCard() {
  return (
    <section class="card start-card" aria-labelledby="git-title">
      <h2 id="git-title">Import a git repository</h2>
      <p class="muted small">
        Every push can deploy. You choose the framework and build settings before the first build.
      </p>
      <form method="get" action="/projects/new" class="stack">
        <div class="field">
          <label for="import-gitUrl">Git repository URL</label>
          <input
            id="import-gitUrl"
            name="gitUrl"
            type="text"
            class="mono"
            placeholder="https://github.com/you/site.git"
            autocomplete="off"
            spellcheck={false}
            required
          />
        </div>
        <div class="actions">
          <button type="submit" class="button primary">
            Continue
          </button>
        </div>
      </form>
    </section>
  );
}

/** The commands that log in and deploy a folder from a terminal, with a copy button. */
export function CliCard({ serverUrl }: { serverUrl: string }) {
  const commands = `minivercel login ${serverUrl}\nminivercel deploy --prod`;
  return (
    <section class="card start-card cli-card" aria-labelledby="cli-title">
      <h2 id="cli-title">Deploy from a terminal</h2>
      <p class="muted small">
        The <code>minivercel</code> binary is also the command-line client (this server has it; elsewhere use
        a release binary). <code>login</code> asks for an API token: create one on your{" "}
        <a href="/account#tokens">account page</a>. Then run <code>deploy</code> in your site's folder.
      </p>
      <div class="copy-block">
        <pre class="mono" id="cli-commands" tabindex={0}>
          {commands}
        </pre>
        <button type="button" class="button small" data-copy="#cli-commands">
          Copy
        </button>
      </div>
      <p class="muted small">
        It uploads only the files the server lacks, builds a folder whose <code>package.json</code> has a{" "}
        <code>build</code> script, and prints the URL.
      </p>
    </section>
  );
}

// Drag-and-drop deploys: a folder or a .zip of a built site, uploaded from the browser through the same
// content-addressed API as the CLI (views/static/drop.js does the work; this is its markup).
/** @jsxImportSource preact */

/** The server's limits per deployment, checked in the browser before anything is sent. */
export interface DropLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

export function DropZone(props: {
  limits: DropLimits;
  /** Deploy into this project; without it each drop creates a project named after the folder. */
  project?: { id: string; name: string };
  title?: string;
}) {
  const { limits, project } = props;
  return (
    <section
      class="card drop-card"
      id="drop"
      aria-labelledby="drop-title"
      data-max-files={limits.maxFiles}
      data-max-file-bytes={limits.maxFileBytes}
      data-max-total-bytes={limits.maxTotalBytes}
      data-project-id={project?.id}
    >
      <h2 id="drop-title">{props.title ?? "Drop a built site"}</h2>
      <p class="muted small">
        A folder or a .zip of static files: the one with <code>index.html</code> (<code>dist</code>,{" "}
        <code>build</code>, <code>out</code>…). It is live at once{project ? "" : ", as a new project"}; only
        files the server does not have yet are uploaded.
      </p>
      <div class="drop-target" id="drop-target">
        <p class="drop-lead">Drag and drop a folder or a .zip anywhere on this page</p>
        <p class="actions drop-pickers" id="drop-pickers" hidden>
          <button type="button" class="button" id="drop-pick-folder">
            Choose a folder
          </button>
          <button type="button" class="button" id="drop-pick-files">
            Choose files or a .zip
          </button>
        </p>
        <p class="muted small" id="drop-nojs">
          Dropping needs JavaScript; the command line below works without it.
        </p>
        {/* drop.js makes this one a folder picker (webkitdirectory). */}
        <input type="file" id="drop-folder" multiple hidden aria-label="Folder to deploy" />
        <input type="file" id="drop-files" multiple hidden aria-label="Files or a .zip to deploy" />
      </div>
      <form id="drop-form" class="stack" hidden novalidate>
        <p id="drop-summary" />
        <ul id="drop-notes" class="drop-notes small muted" />
        <div class="field" hidden={Boolean(project)}>
          <label for="drop-name">Project name</label>
          <input
            id="drop-name"
            name="name"
            type="text"
            maxlength={100}
            autocomplete="off"
            spellcheck={false}
            aria-describedby="drop-name-hint"
          />
          <p class="hint" id="drop-name-hint">
            Named after the folder; its subdomain is made from the name.
          </p>
          <p class="field-error" id="drop-name-error" role="alert" hidden />
        </div>
        <div class="actions">
          <button type="submit" class="button primary" id="drop-deploy">
            {project ? `Deploy to ${project.name}` : "Deploy"}
          </button>
          <button type="button" class="button" id="drop-again">
            Choose other files
          </button>
        </div>
      </form>
      <div id="drop-progress" class="drop-progress" hidden>
        <progress id="drop-bar" max={1} value={0} aria-labelledby="drop-status" />
        <p id="drop-status" class="small" aria-live="polite" />
      </div>
      <div id="drop-result" class="drop-result" hidden tabindex={-1} />
      <p class="form-error" id="drop-error" role="alert" hidden />
    </section>
  );
}

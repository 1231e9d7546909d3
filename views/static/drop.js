// The drop zone (views/components/drop-zone.tsx): take a folder, files or a .zip (drop-files.js), then deploy
// them as the CLI does: create the project, hash every file (sha256.js), ask which hashes the server lacks,
// upload only those with progress, and create a production deployment from the file set. Shows the READY
// deployment's URL at the end. Names and server messages are only ever set as textContent.

(() => {
  const mv = globalThis.minivercel;
  const PARALLEL = 4;
  const ATTEMPTS = 3;

  class ApiError extends Error {
    constructor(status, message, field, retryAfterMs) {
      super(message);
      this.status = status;
      this.field = field ?? null;
      this.retryAfterMs = retryAfterMs;
    }
  }

  /** The session's CSRF token, as the page gives it to htmx. */
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") ?? "{}")["x-csrf-token"] ?? "";
    } catch {
      return "";
    }
  }

  const retryAfter = (value) => (value && /^\d+$/.test(value) ? Number(value) * 1000 : 0);

  function errorOf(status, text, retryAfterMs) {
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {}
    const message = typeof body?.error?.message === "string" ? body.error.message : null;
    const field = typeof body?.error?.field === "string" ? body.error.field : null;
    if (status === 401)
      return new ApiError(status, "Your session has ended: sign in again, then drop again.");
    return new ApiError(status, message ?? `The server answered ${status}.`, field, retryAfterMs);
  }

  async function api(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
        body: JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "The server could not be reached. Check the connection and try again.");
    }
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text, retryAfter(response.headers.get("retry-after")));
    return JSON.parse(text);
  }

  /** PUT one file; `progress(bytes)` as its body goes out (XMLHttpRequest: fetch has no upload progress). */
  function put(hash, blob, progress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", `/api/files/${hash}`);
      xhr.setRequestHeader("content-type", "application/octet-stream");
      xhr.setRequestHeader("x-csrf-token", csrfToken());
      xhr.upload.addEventListener("progress", (event) => progress(event.loaded));
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(errorOf(xhr.status, xhr.responseText, retryAfter(xhr.getResponseHeader("retry-after"))));
      });
      xhr.addEventListener("error", () =>
        reject(new ApiError(0, "An upload failed: the connection dropped.")),
      );
      xhr.send(blob);
    });
  }

  /** Runs `fn` over `items`, `limit` at a time; the first failure is thrown once the others stop. */
  async function eachLimit(items, limit, fn) {
    const queue = items.values();
    let failure = null;
    const worker = async () => {
      for (const item of queue) {
        if (failure) return;
        try {
          await fn(item);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failure) throw failure;
  }

  async function uploadOne(file, progress) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await put(file.hash, file.blob, progress);
      } catch (error) {
        // Over the upload budget (429), or the server or network faltered: wait, then send it again.
        const retry = error.status === 0 || error.status === 429 || error.status >= 500;
        if (!retry || attempt >= ATTEMPTS) throw error;
        progress(0);
        await new Promise((r) =>
          setTimeout(r, Math.min(60_000, Math.max(500 * attempt, error.retryAfterMs))),
        );
      }
    }
  }

  function setup(root) {
    const $ = (id) => root.querySelector(`#${id}`);
    const el = {
      target: $("drop-target"),
      pickers: $("drop-pickers"),
      folder: $("drop-folder"),
      files: $("drop-files"),
      form: $("drop-form"),
      summary: $("drop-summary"),
      notes: $("drop-notes"),
      name: $("drop-name"),
      nameError: $("drop-name-error"),
      deploy: $("drop-deploy"),
      again: $("drop-again"),
      progress: $("drop-progress"),
      bar: $("drop-bar"),
      status: $("drop-status"),
      result: $("drop-result"),
      error: $("drop-error"),
    };
    const limits = {
      maxFiles: Number(root.dataset.maxFiles),
      maxFileBytes: Number(root.dataset.maxFileBytes),
      maxTotalBytes: Number(root.dataset.maxTotalBytes),
    };
    // Deploying into an existing project (its page), or into the project a failed attempt already created.
    let projectId = root.dataset.projectId || null;
    let selected = null;
    let busy = false;

    $("drop-nojs").hidden = true;
    el.pickers.hidden = false;
    el.folder.webkitdirectory = true;

    function show(state) {
      el.target.hidden = state === "working" || state === "done";
      el.form.hidden = state !== "selected";
      el.progress.hidden = state !== "working";
      el.result.hidden = state !== "done";
    }

    function fail(message) {
      el.error.textContent = message;
      el.error.hidden = false;
    }

    function clearErrors() {
      el.error.hidden = true;
      el.nameError.hidden = true;
      el.name.removeAttribute("aria-invalid");
    }

    async function take(collect) {
      if (busy) return;
      clearErrors();
      show("working");
      setProgress(0, 1, "Reading the files…");
      try {
        const selection = await collect();
        const prepared = mv.prepare(selection, limits);
        selected = prepared;
        el.summary.textContent = `${prepared.files.length} files, ${mv.formatBytes(prepared.total)}, from ${selection.label}.`;
        el.notes.replaceChildren(
          ...prepared.notes.map((note) => {
            const li = document.createElement("li");
            li.textContent = note;
            return li;
          }),
        );
        if (!el.name.readOnly) el.name.value = selection.name.slice(0, 100) || "site";
        show("selected");
        (projectId ? el.deploy : el.name).focus();
      } catch (error) {
        selected = null;
        show("idle");
        fail(
          error instanceof mv.DropError ? error.message : `Those files could not be read: ${error.message}`,
        );
      }
    }

    function setProgress(done, total, text) {
      el.bar.max = Math.max(total, 1);
      el.bar.value = Math.min(done, total);
      el.status.textContent = text;
    }

    async function hashAll(files) {
      let bytes = 0;
      let count = 0;
      const total = files.reduce((sum, f) => sum + f.blob.size, 0);
      await eachLimit(files, PARALLEL, async (file) => {
        file.hash = await mv.sha256(file.blob);
        bytes += file.blob.size;
        count++;
        setProgress(bytes, total, `Hashing ${count} of ${files.length} files (${mv.formatBytes(bytes)})…`);
      });
    }

    async function uploadMissing(files) {
      const byHash = new Map();
      for (const f of files) if (!byHash.has(f.hash)) byHash.set(f.hash, f);
      setProgress(0, 1, "Asking the server which files it already has…");
      const { missing } = await api("POST", "/api/files/missing", { hashes: [...byHash.keys()] });
      const todo = missing.map((hash) => byHash.get(hash)).filter(Boolean);
      const total = todo.reduce((sum, f) => sum + f.blob.size, 0);
      const sent = new Map();
      let finished = 0;
      const report = () => {
        const bytes = [...sent.values()].reduce((a, b) => a + b, 0);
        setProgress(
          bytes,
          total,
          `Uploading ${finished} of ${todo.length} files (${mv.formatBytes(bytes)} of ${mv.formatBytes(total)}); ` +
            `${byHash.size - todo.length} already on the server…`,
        );
      };
      report();
      await eachLimit(todo, PARALLEL, async (file) => {
        await uploadOne(file, (loaded) => {
          sent.set(file.hash, Math.min(loaded, file.blob.size));
          report();
        });
        sent.set(file.hash, file.blob.size);
        finished++;
        report();
      });
      return { uploaded: todo.length, distinct: byHash.size, bytes: total };
    }

    function showResult(deployment, project, upload) {
      const heading = document.createElement("h3");
      heading.textContent =
        deployment.status === "READY" ? "Deployed: your site is live" : `Deployment ${deployment.status}`;
      const lines = [heading];
      const link = (href, text, cls) => {
        const a = document.createElement("a");
        if (/^https?:\/\//.test(href)) a.href = href;
        a.textContent = text;
        if (cls) a.className = cls;
        return a;
      };
      for (const [label, url, id] of [
        ["Production", project.productionUrl, "drop-production-url"],
        ["This deployment", deployment.url, "drop-url"],
      ]) {
        const p = document.createElement("p");
        const a = link(url, url.replace(/^https?:\/\//, ""), "external");
        a.id = id;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        p.append(`${label}: `, a);
        lines.push(p);
      }
      const stats = document.createElement("p");
      stats.className = "small muted";
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      stats.textContent =
        upload.uploaded === upload.distinct
          ? `${selected.files.length} files, all uploaded (${mv.formatBytes(upload.bytes)}), in ${seconds} s.`
          : `${selected.files.length} files: ${upload.uploaded} of ${upload.distinct} distinct files uploaded ` +
            `(${mv.formatBytes(upload.bytes)}), the rest were already on the server; in ${seconds} s.`;
      const actions = document.createElement("p");
      actions.className = "actions";
      const open = link(`/deployments/${deployment.id}`, "View the deployment", "button primary");
      open.href = `/deployments/${encodeURIComponent(deployment.id)}`;
      open.id = "drop-open";
      const projectLink = link("", "Go to the project", "button");
      projectLink.href = `/projects/${encodeURIComponent(project.id)}`;
      actions.append(open, projectLink);
      el.result.replaceChildren(...lines, stats, actions);
      el.result.dataset.status = deployment.status;
      show("done");
      el.result.focus();
      // The next drop here is a new deployment of its own (a new project, unless this is a project's page).
      projectId = root.dataset.projectId || null;
      el.name.readOnly = false;
    }

    let started = 0;
    async function deploy() {
      if (busy || !selected) return;
      busy = true;
      started = performance.now();
      clearErrors();
      show("working");
      try {
        if (!projectId) {
          setProgress(0, 1, "Creating the project…");
          const project = await api("POST", "/api/projects", { name: el.name.value.trim() });
          projectId = project.id;
          // A retry after a later failure deploys into this project rather than creating another.
          el.name.readOnly = true;
        }
        // Source to build on the server (its dependencies are installed there, not uploaded), or a site as it is.
        const build = await mv.buildReason(selected.files);
        const chosen = build
          ? selected.files.filter((f) => !f.path.split("/").includes("node_modules"))
          : selected.files;
        await hashAll(chosen);
        const upload = await uploadMissing(chosen);
        setProgress(1, 1, build ? `Starting the build (${build})…` : "Creating the deployment…");
        const files = {};
        for (const f of chosen) files[f.path] = { hash: f.hash, size: f.blob.size };
        const created = await api("POST", `/api/projects/${encodeURIComponent(projectId)}/deployments`, {
          files,
          target: "production",
          ...(build && { source: true }),
        });
        // A build goes on on the server: its page streams the log live.
        if (created.deployment.status !== "READY") {
          location.assign(`/deployments/${encodeURIComponent(created.deployment.id)}`);
          return;
        }
        showResult(created.deployment, created.project, upload);
      } catch (error) {
        show("selected");
        if (!(error instanceof ApiError)) {
          fail(`Something went wrong in the browser: ${error.message}`);
        } else if (error.field === "name" || error.field === "subDomain") {
          el.nameError.textContent = error.message.replace(/^name /, "Project name ");
          el.nameError.hidden = false;
          el.name.setAttribute("aria-invalid", "true");
          el.name.focus();
        } else {
          fail(error.message.charAt(0).toUpperCase() + error.message.slice(1));
        }
      } finally {
        busy = false;
      }
    }

    // Dropping anywhere on the page: the browser would otherwise open the dropped file in place of the page.
    let depth = 0;
    const active = (on) => el.target.classList.toggle("drop-active", on);
    document.addEventListener("dragenter", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      depth++;
      active(!busy);
    });
    document.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) active(false);
    });
    document.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = busy ? "none" : "copy";
    });
    document.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      depth = 0;
      active(false);
      // The entries must be taken now: the DataTransfer is emptied once this handler returns.
      const entries = mv.entriesOf(event.dataTransfer);
      const files = [...event.dataTransfer.files];
      take(() => mv.fromDrop(entries, files, limits));
    });

    $("drop-pick-folder").addEventListener("click", () => el.folder.click());
    $("drop-pick-files").addEventListener("click", () => el.files.click());
    for (const input of [el.folder, el.files]) {
      input.addEventListener("change", () => {
        const files = [...input.files];
        input.value = "";
        if (files.length > 0) take(() => mv.fromFiles(files, limits));
      });
    }
    el.again.addEventListener("click", () => {
      selected = null;
      show("idle");
      el.pickers.querySelector("button")?.focus();
    });
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      deploy();
    });
  }

  const start = () => {
    const root = document.getElementById("drop");
    if (root && !root.dataset.started) {
      root.dataset.started = "1";
      setup(root);
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

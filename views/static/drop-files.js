// What a drop or a file picker holds, as the files of a site: walks dropped folders
// (webkitGetAsEntry), unpacks a single .zip (zip.js), leaves out system files, and checks the limits.
// File names are hostile input: they are only ever shown with textContent (drop.js).

(() => {
  globalThis.minivercel ??= {};
  const mv = globalThis.minivercel;
  /** Left out wherever they appear, as the CLI leaves them out: system clutter and version control. */
  const CLUTTER_FILES = new Set([".DS_Store", "Thumbs.db", "desktop.ini", ".minivercel.json"]);
  const CLUTTER_DIRS = new Set([".git", ".hg", ".svn", "__MACOSX"]);
  // The server refuses these in a path (src/store/artifacts.ts, FORBIDDEN_NAME_CHARS).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  const BAD_NAME = /[\\\u0000-\u001f\u007f]/;

  class DropError extends Error {}

  function formatBytes(n) {
    if (n >= 1024 * 1024 * 1024) return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
    if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
    if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${n} B`;
  }

  const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
  const batchOf = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));

  /** Every file under a FileSystemEntry, with paths relative to `prefix`. */
  async function walk(entry, prefix, out, limits) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      out.push({ path, blob: await fileOf(entry) });
      return;
    }
    if (!entry.isDirectory) return;
    // Never descend into version control folders: they can hold many thousands of files.
    if (CLUTTER_DIRS.has(entry.name)) {
      out.push({ path: `${path}/`, blob: null });
      return;
    }
    const reader = entry.createReader();
    // readEntries answers in batches (100 in Chromium) until an empty one.
    for (;;) {
      const batch = await batchOf(reader);
      if (batch.length === 0) break;
      for (const child of batch) {
        await walk(child, path, out, limits);
        if (out.length > limits.maxFiles * 2) throw tooMany(limits);
      }
    }
  }

  const tooMany = (limits) =>
    new DropError(`That is more than ${limits.maxFiles.toLocaleString()} files, the limit per deployment.`);

  const baseName = (name) => name.replace(/\.zip$/i, "").slice(0, 100);
  const isZip = (file) => /\.zip$/i.test(file.name) || file.type === "application/zip";

  /** A drop's entries; must be taken during the drop event itself (the DataTransfer is emptied after it). */
  function entriesOf(dataTransfer) {
    const items = [...(dataTransfer.items ?? [])].filter((item) => item.kind === "file");
    if (items.length > 0 && typeof items[0].webkitGetAsEntry === "function") {
      return items.map((item) => item.webkitGetAsEntry()).filter(Boolean);
    }
    return null;
  }

  /**
   * A drop -> { name, files: [{ path, blob }], label }. One folder: its contents, named after it (as Netlify
   * Drop does). One .zip: its contents. Anything else: the files and folders as dropped.
   */
  async function fromDrop(entries, files, limits) {
    if (entries === null) return fromFiles(files, limits);
    if (entries.length === 1 && entries[0].isDirectory) {
      const out = [];
      const root = entries[0];
      const reader = root.createReader();
      for (;;) {
        const batch = await batchOf(reader);
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, "", out, limits);
      }
      return { name: root.name, files: out, label: `folder ${root.name}` };
    }
    if (entries.length === 1 && entries[0].isFile) {
      const file = await fileOf(entries[0]);
      if (isZip(file)) return fromZip(file, limits);
    }
    const out = [];
    for (const entry of entries) await walk(entry, "", out, limits);
    return { name: "site", files: out, label: "the dropped files" };
  }

  /** The file pickers: a folder (webkitRelativePath "dist/a.html", its top folder dropped), or files. */
  async function fromFiles(fileList, limits) {
    const files = [...fileList];
    if (files.length === 1 && isZip(files[0])) return fromZip(files[0], limits);
    const relative = files.length > 0 && files.every((f) => f.webkitRelativePath);
    if (relative) {
      const root = files[0].webkitRelativePath.split("/")[0];
      return {
        name: root,
        files: files.map((f) => ({ path: f.webkitRelativePath.split("/").slice(1).join("/"), blob: f })),
        label: `folder ${root}`,
      };
    }
    return { name: "site", files: files.map((f) => ({ path: f.name, blob: f })), label: "the chosen files" };
  }

  async function fromZip(file, limits) {
    let read;
    try {
      read = await mv.readZip(file, { ...limits, describe: formatBytes });
    } catch (error) {
      if (error instanceof mv.ZipError) throw new DropError(`${file.name}: ${error.message}.`);
      throw error;
    }
    let files = read.files;
    // A zip of a folder holds one top folder: deploy what is inside it, as with a dropped folder.
    const tops = new Set(files.map((f) => f.path.split("/")[0]));
    const [top] = tops;
    if (tops.size === 1 && files.every((f) => f.path.includes("/"))) {
      files = files.map((f) => ({ path: f.path.slice(top.length + 1), blob: f.blob }));
    }
    const notes = read.links.length > 0 ? [`${read.links.length} symbolic links in the zip left out`] : [];
    return { name: baseName(file.name), files, label: `zip ${file.name}`, notes };
  }

  /**
   * Leaves out clutter and names the server refuses, then checks the limits. Returns { files, notes } or
   * throws DropError with what is wrong.
   */
  function prepare(selection, limits) {
    const files = [];
    const notes = [...(selection.notes ?? [])];
    let clutter = 0;
    const refused = [];
    for (const { path, blob } of selection.files) {
      const parts = path.split("/");
      if (blob === null || parts.some((p) => CLUTTER_DIRS.has(p)) || CLUTTER_FILES.has(parts.at(-1))) {
        clutter++;
        continue;
      }
      if (parts.some((p) => p === "" || p === "." || p === ".." || BAD_NAME.test(p))) {
        refused.push(path);
        continue;
      }
      files.push({ path: `/${path}`, blob });
    }
    if (clutter > 0) notes.push(`${clutter} system or version-control entries left out (.DS_Store, .git, …)`);
    if (refused.length > 0)
      notes.push(
        `${refused.length} files left out: a backslash or control character in the name (${refused[0]})`,
      );
    if (files.length === 0)
      throw new DropError("There are no files to deploy in that drop (empty folders do not count).");
    if (files.length > limits.maxFiles) throw tooMany(limits);
    let total = 0;
    for (const file of files) {
      if (file.blob.size > limits.maxFileBytes) {
        throw new DropError(
          `${file.path.slice(1)} is ${formatBytes(file.blob.size)}, over the limit of ${formatBytes(limits.maxFileBytes)} per file.`,
        );
      }
      total += file.blob.size;
    }
    if (total > limits.maxTotalBytes)
      throw new DropError(
        `The files add up to ${formatBytes(total)}, over the limit of ${formatBytes(limits.maxTotalBytes)} per deployment.`,
      );
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (!files.some((f) => f.path === "/index.html"))
      notes.push("There is no index.html at the top: the site's home page will answer 404.");
    return { files, total, notes };
  }

  /** A zero-config function file (builder/api-routes.ts): under api/, no segment starting with _ or . */
  const FUNCTION_FILE = /^\/api\/(?:[^/_.][^/]*\/)*[^/_.][^/]*\.(?:js|mjs|ts|tsx)$/;
  const NOT_FUNCTION = /\.d\.ts$|\.(?:test|spec)\.[^/]*$|\/node_modules\//;

  /**
   * Why the server must build these files rather than serve them (as the CLI decides, src/cli/deploy.ts):
   * functions under api/ (served as files, their source would be public) or a build script; else null.
   */
  async function buildReason(files) {
    if (files.some((f) => FUNCTION_FILE.test(f.path) && !NOT_FUNCTION.test(f.path)))
      return "functions under api/";
    const pkg = files.find((f) => f.path === "/package.json");
    if (!pkg) return null;
    try {
      const scripts = JSON.parse(await pkg.blob.text())?.scripts;
      return typeof scripts?.build === "string" ? "a build script in package.json" : null;
    } catch {
      return null;
    }
  }

  globalThis.minivercel = Object.assign(mv, {
    buildReason,
    DropError,
    entriesOf,
    fromDrop,
    fromFiles,
    prepare,
    formatBytes,
  });
})();

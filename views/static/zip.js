// Reading a dropped .zip in the browser: its central directory, then each entry, stored or deflated
// (DecompressionStream "deflate-raw"), checked against its size and CRC-32. Anything else is refused with
// a message saying what: encrypted entries, other compression methods, ZIP64, split archives, unsafe paths.

(() => {
  const EOCD = 0x06054b50;
  const ZIP64_LOCATOR = 0x07064b50;
  const CENTRAL = 0x02014b50;
  const LOCAL = 0x04034b50;
  const METHODS = {
    9: "Deflate64",
    12: "bzip2",
    14: "LZMA",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: "AES",
  };

  class ZipError extends Error {}

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(crc, bytes) {
    let c = ~crc;
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  }

  async function bytesOf(blob, start, end) {
    return new DataView(await blob.slice(start, end).arrayBuffer());
  }

  function decodeName(bytes, utf8Flag) {
    if (utf8Flag) return new TextDecoder("utf-8").decode(bytes);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // Old tools write names in the system's code page; this shows them, if not always exactly.
      return new TextDecoder("windows-1252").decode(bytes);
    }
  }

  /** "a\\b/./c" -> "a/b/c"; null for a path that would leave the site's folder. */
  function safePath(name) {
    const parts = name.replaceAll("\\", "/").split("/");
    if (parts[0] === "" || /^[A-Za-z]:$/.test(parts[0] ?? "")) return null;
    const kept = parts.filter((p) => p !== "" && p !== ".");
    return kept.includes("..") ? null : kept.join("/");
  }

  async function findEnd(blob) {
    const from = Math.max(0, blob.size - (22 + 0xffff));
    const tail = await bytesOf(blob, from, blob.size);
    for (let at = tail.byteLength - 22; at >= 0; at--) {
      if (tail.getUint32(at, true) !== EOCD) continue;
      const zip64 = at >= 20 && tail.getUint32(at - 20, true) === ZIP64_LOCATOR;
      return {
        zip64,
        disk: tail.getUint16(at + 4, true),
        cdDisk: tail.getUint16(at + 6, true),
        count: tail.getUint16(at + 10, true),
        size: tail.getUint32(at + 12, true),
        offset: tail.getUint32(at + 16, true),
      };
    }
    throw new ZipError("this file is not a zip archive (or it is damaged)");
  }

  /** The central directory's entries (files and folders), without reading their data. */
  async function listEntries(blob, limits) {
    const end = await findEnd(blob);
    if (end.zip64 || end.count === 0xffff || end.offset === 0xffffffff)
      throw new ZipError("ZIP64 archives are not supported: zip fewer than 65,535 files, under 4 GB");
    if (end.disk !== 0 || end.cdDisk !== 0)
      throw new ZipError("split (multi-part) zip archives are not supported");
    if (end.count > limits.maxFiles * 2) throw new ZipError(`the zip has more than ${limits.maxFiles} files`);
    const cd = await bytesOf(blob, end.offset, end.offset + end.size);
    const entries = [];
    let at = 0;
    for (let i = 0; i < end.count; i++) {
      if (at + 46 > cd.byteLength || cd.getUint32(at, true) !== CENTRAL)
        throw new ZipError("the zip's table of contents is damaged");
      const flags = cd.getUint16(at + 8, true);
      const nameLength = cd.getUint16(at + 28, true);
      const name = decodeName(
        new Uint8Array(cd.buffer, cd.byteOffset + at + 46, nameLength),
        (flags & 0x800) !== 0,
      );
      const madeBy = cd.getUint16(at + 4, true) >> 8;
      const mode = cd.getUint32(at + 38, true) >>> 16;
      entries.push({
        name,
        flags,
        method: cd.getUint16(at + 10, true),
        crc: cd.getUint32(at + 16, true),
        compressedSize: cd.getUint32(at + 20, true),
        size: cd.getUint32(at + 24, true),
        offset: cd.getUint32(at + 42, true),
        // Unix zips mark symbolic links in the mode bits: their "content" is a path, never a file to serve.
        symlink: madeBy === 3 && (mode & 0o170000) === 0o120000,
      });
      at += 46 + nameLength + cd.getUint16(at + 30, true) + cd.getUint16(at + 32, true);
    }
    return entries;
  }

  /** An entry's content as a Blob, verified against the sizes and CRC-32 of the central directory. */
  async function extract(blob, entry) {
    const local = await bytesOf(blob, entry.offset, entry.offset + 30);
    if (local.byteLength < 30 || local.getUint32(0, true) !== LOCAL)
      throw new ZipError(`${entry.name}: the zip is damaged`);
    const start = entry.offset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    const raw = blob.slice(start, start + entry.compressedSize);
    const chunks = [];
    let size = 0;
    let crc = 0;
    const reader = (
      entry.method === 8 ? raw.stream().pipeThrough(new DecompressionStream("deflate-raw")) : raw.stream()
    ).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        // Never inflate past the size the directory declared (a zip bomb stops here).
        if (size > entry.size) throw new ZipError(`${entry.name}: larger than the zip says`);
        crc = crc32(crc, value);
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof ZipError) throw error;
      throw new ZipError(`${entry.name}: the compressed data is damaged`);
    } finally {
      reader.releaseLock();
    }
    if (size !== entry.size || crc !== entry.crc)
      throw new ZipError(`${entry.name}: the zip is damaged (checksum)`);
    return new Blob(chunks);
  }

  /**
   * The files of a zip: [{ path, blob }] with "/"-separated relative paths, plus the symbolic links left out.
   * Throws ZipError (message for people) for what it cannot read, before reading any data past the limits.
   */
  async function readZip(blob, limits) {
    const entries = await listEntries(blob, limits);
    const files = [];
    const links = [];
    let total = 0;
    for (const entry of entries) {
      const path = safePath(entry.name);
      if (path === null)
        throw new ZipError(`the zip has an unsafe path, ${JSON.stringify(entry.name)}: refused`);
      if (entry.name.endsWith("/") || path === "") continue;
      if (entry.symlink) {
        links.push(path);
        continue;
      }
      if (entry.flags & 0x1) throw new ZipError(`${path} is encrypted: zip without a password`);
      if (entry.method !== 0 && entry.method !== 8) {
        const method = METHODS[entry.method] ?? `method ${entry.method}`;
        throw new ZipError(
          `${path} is compressed with ${method}: only stored and deflated entries are supported`,
        );
      }
      total += entry.size;
      if (entry.size > limits.maxFileBytes || total > limits.maxTotalBytes) {
        // Refused from the directory alone: nothing is inflated.
        throw new ZipError(
          entry.size > limits.maxFileBytes
            ? `${path} is over ${limits.describe(limits.maxFileBytes)}, the limit per file`
            : `the zip's files add up to more than ${limits.describe(limits.maxTotalBytes)}, the limit per deployment`,
        );
      }
      if (entry.method === 0 && entry.compressedSize !== entry.size)
        throw new ZipError(`${path}: the zip is damaged`);
      files.push({ path, entry });
    }
    const out = [];
    for (const { path, entry } of files) out.push({ path, blob: await extract(blob, entry) });
    return { files: out, links };
  }

  globalThis.minivercel = Object.assign(globalThis.minivercel ?? {}, { readZip, ZipError });
})();

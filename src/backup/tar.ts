// Backup archive format: a streaming POSIX tar (ustar + pax for long names) writer and reader, regular files only.
// Our own, because Bun.Archive builds and extracts whole archives in memory and a backup can be gigabytes.

const BLOCK = 512;
/** Largest size the 11 octal digits of a ustar header hold; bigger files get a pax `size` record. */
const MAX_USTAR_SIZE = 0o77777777777;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A malformed, corrupted or truncated archive. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarError";
  }
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, "0"));
}

function checksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum;
}

function header(name: string, size: number, type: "0" | "x", mode: number, mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, Math.min(size, MAX_USTAR_SIZE));
  writeOctal(block, 136, 12, mtime);
  writeString(block, 156, 1, type);
  writeString(block, 257, 8, "ustar\u000000");
  writeOctal(block, 148, 7, checksum(block));
  block[155] = 32;
  return block;
}

/** One pax record, "<length> key=value\n", where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

const padding = (size: number) => new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);

export interface TarFileOptions {
  /** Permission bits (default 0600: a backup holds secrets). */
  mode?: number;
  mtime?: Date;
}

/**
 * The blocks of one regular file: header(s), the body as it streams, padding. Throws when the body's length
 * differs from `size` (the file changed while it was read), so a wrong archive is never finished.
 */
export async function* tarFile(
  path: string,
  size: number,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: TarFileOptions = {},
): AsyncGenerator<Uint8Array> {
  const mode = options.mode ?? 0o600;
  const mtime = Math.floor((options.mtime ?? new Date()).getTime() / 1000);
  const records: string[] = [];
  if (encoder.encode(path).length > 100) records.push(paxRecord("path", path));
  if (size > MAX_USTAR_SIZE) records.push(paxRecord("size", String(size)));
  if (records.length > 0) {
    const pax = encoder.encode(records.join(""));
    yield header("PaxHeader", pax.length, "x", 0o644, mtime);
    yield pax;
    yield padding(pax.length);
  }
  yield header(path, size, "0", mode, mtime);
  let written = 0;
  for await (const chunk of body) {
    written += chunk.length;
    if (written > size) throw new Error(`${path} grew while it was archived`);
    yield chunk;
  }
  if (written !== size) throw new Error(`${path} shrank while it was archived`);
  yield padding(size);
}

/** Reads a (small) body whole. */
export async function collect(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk.slice());
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An async iterable as a web stream (pulled on demand), for CompressionStream. */
export function toStream(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array<ArrayBuffer>> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      // Our chunks come from files and fresh buffers, never from a SharedArrayBuffer.
      else controller.enqueue(next.value as Uint8Array<ArrayBuffer>);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/** The end-of-archive marker: two zero blocks. */
export const tarEnd = (): Uint8Array => new Uint8Array(BLOCK * 2);

/** Exact reads over a stream of chunks of any size. */
class ByteReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private ended = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    if (this.buffer.length === 0) this.buffer = next.value;
    else {
      const merged = new Uint8Array(this.buffer.length + next.value.length);
      merged.set(this.buffer);
      merged.set(next.value, this.buffer.length);
      this.buffer = merged;
    }
    return true;
  }

  /** Exactly n bytes; null at a clean end before the first byte; throws when the stream ends midway. */
  async exactly(n: number): Promise<Uint8Array | null> {
    while (this.buffer.length < n) {
      if (!(await this.fill())) {
        if (this.buffer.length === 0) return null;
        throw new TarError("archive is truncated");
      }
    }
    const out = this.buffer.slice(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Between 1 and max bytes, as they arrive (a file body is never held whole). */
  async chunk(max: number): Promise<Uint8Array> {
    if (this.buffer.length === 0 && !(await this.fill())) throw new TarError("archive is truncated");
    const piece = this.buffer.subarray(0, Math.min(max, this.buffer.length));
    this.buffer = this.buffer.subarray(piece.length);
    return piece;
  }
}

/** An entry of an archive being read; its body must be consumed (or is skipped) before the next entry. */
export interface TarEntry {
  path: string;
  size: number;
  mode: number;
  body: AsyncIterable<Uint8Array>;
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  try {
    return decoder.decode(end === -1 ? field : field.subarray(0, end));
  } catch {
    throw new TarError("archive has a header with a name that is not UTF-8");
  }
}

function readOctal(block: Uint8Array, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new TarError(`archive has a header with a bad ${what}`);
  return Number.parseInt(text, 8);
}

function parsePax(bytes: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new TarError("archive has a pax header that is not UTF-8");
  }
  let at = 0;
  while (at < text.length) {
    const match = /^(\d+) ([^=]+)=/.exec(text.slice(at));
    const length = Number(match?.[1]);
    const record = text.slice(at, at + length);
    if (!match?.[2] || !record.endsWith("\n")) throw new TarError("archive has a malformed pax header");
    records.set(match[2], record.slice(match[0].length, -1));
    at += length;
  }
  return records;
}

/**
 * Reads regular-file entries from a tar stream, checking every header's checksum. Links, devices and other
 * special entries are refused (a backup never has them, and restoring one could write outside the target).
 */
export async function* readTar(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(chunks[Symbol.asyncIterator]());
  let pax = new Map<string, string>();
  for (;;) {
    const block = await reader.exactly(BLOCK);
    if (block === null) throw new TarError("archive is truncated (no end-of-archive marker)");
    if (block.every((b) => b === 0)) return;
    if (readOctal(block, 148, 8, "checksum") !== checksum(block))
      throw new TarError("archive is corrupted (a header checksum does not match)");
    const type = String.fromCharCode(block[156] ?? 0);
    let size = readOctal(block, 124, 12, "size");
    if (type === "x" || type === "g") {
      const bytes = await reader.exactly(size + padding(size).length);
      if (bytes === null) throw new TarError("archive is truncated");
      if (type === "x") pax = parsePax(bytes.subarray(0, size));
      continue;
    }
    if (type !== "0" && type !== "\u0000" && type !== "5")
      throw new TarError(`archive has an entry of unsupported type '${type}'`);
    const prefix = readString(block, 345, 155);
    const name = readString(block, 0, 100);
    const path = pax.get("path") ?? (prefix ? `${prefix}/${name}` : name);
    const paxSize = pax.get("size");
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize)) throw new TarError("archive has a pax header with a bad size");
      size = Number(paxSize);
    }
    pax = new Map();
    if (type === "5") continue;
    // No return(): a consumer that stops early leaves the rest, which is skipped below.
    let left = size;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (left === 0) return { done: true, value: undefined };
      const piece = await reader.chunk(left);
      left -= piece.length;
      return { done: false, value: piece };
    };
    yield {
      path,
      size,
      mode: readOctal(block, 100, 8, "mode"),
      body: { [Symbol.asyncIterator]: () => ({ next }) },
    };
    while (left > 0) left -= (await reader.chunk(left)).length;
    if ((await reader.exactly(padding(size).length)) === null) throw new TarError("archive is truncated");
  }
}

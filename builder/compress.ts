// Build step "upload", part two: precompressed gzip and brotli variants of text-like files, computed once per
// deployment so the proxy never compresses on the hot path.

import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Smaller files gain little and cost a header's worth of bytes either way. */
export const MIN_COMPRESS_BYTES = 1024;
/** Past this, files are served uncompressed: brotli at quality 11 runs at roughly 1 MB/s. */
export const MAX_COMPRESS_BYTES = 32 * 1024 * 1024;
/** Brotli quality 11 up to this size, quality 6 beyond (still far better than gzip, much faster). */
const BROTLI_MAX_QUALITY_BYTES = 4 * 1024 * 1024;
/** A variant is kept only when it saves at least this fraction of the original. */
const MIN_SAVING = 0.05;

const COMPRESSIBLE_APPLICATION = new Set([
  "application/javascript",
  "application/json",
  "application/ld+json",
  "application/manifest+json",
  "application/xml",
  "application/xhtml+xml",
  "application/rss+xml",
  "application/atom+xml",
  "application/wasm",
  "application/vnd.ms-fontobject",
  "application/x-font-ttf",
  "application/x-javascript",
  "application/graphql+json",
]);

const COMPRESSIBLE_OTHER = new Set(["image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf"]);

/** Text, scripts, styles, data, SVG, WebAssembly and uncompressed font formats; never images or woff/woff2. */
export function isCompressible(type: string): boolean {
  const base = (type.split(";")[0] ?? "").trim().toLowerCase();
  return base.startsWith("text/") || COMPRESSIBLE_APPLICATION.has(base) || COMPRESSIBLE_OTHER.has(base);
}

export interface Compressed {
  gzip: Uint8Array | null;
  br: Uint8Array | null;
}

const worthIt = (compressed: Uint8Array, size: number) => compressed.byteLength <= size * (1 - MIN_SAVING);

/** gzip -9 and brotli -q11 of `data` (off the main thread); each null unless it saves at least 5%. */
export async function compressVariants(data: Uint8Array): Promise<Compressed> {
  const size = data.byteLength;
  const quality = size <= BROTLI_MAX_QUALITY_BYTES ? 11 : 6;
  const [gz, br] = await Promise.all([
    gzipAsync(data, { level: 9 }),
    brotliAsync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_SIZE_HINT]: size,
      },
    }),
  ]);
  const gzBytes = new Uint8Array(gz);
  const brBytes = new Uint8Array(br);
  return { gzip: worthIt(gzBytes, size) ? gzBytes : null, br: worthIt(brBytes, size) ? brBytes : null };
}

/** Whether a file of this type and size gets variants at all. */
export function shouldCompress(type: string, size: number): boolean {
  return size >= MIN_COMPRESS_BYTES && size <= MAX_COMPRESS_BYTES && isCompressible(type);
}

// The dashboard's icon as PNG and ICO files, drawn in code from the same shape as views/static/icon.svg
// (a white triangle on a dark rounded square), so the binary carries no image files of its own.

import { deflateSync } from "node:zlib";

/** The SVG's geometry in its 64-unit viewBox. */
const VIEW = 64;
const CORNER = 14;
/** The triangle's corners: top (32, 14), bottom right (54, 50), bottom left (10, 50). */
const TOP = 14;
const BOTTOM = 50;
const APEX = 32;
const HALF_BASE = 22;
const DARK = [0x18, 0x18, 0x1b];
const LIGHT = [0xff, 0xff, 0xff];
/** Samples per pixel side: 4x4 gives smooth edges at every size. */
const SUPERSAMPLE = 4;

function inRoundedSquare(x: number, y: number): boolean {
  if (x < 0 || y < 0 || x > VIEW || y > VIEW) return false;
  const cx = Math.min(Math.max(x, CORNER), VIEW - CORNER);
  const cy = Math.min(Math.max(y, CORNER), VIEW - CORNER);
  return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER ** 2;
}

function inTriangle(x: number, y: number): boolean {
  if (y < TOP || y > BOTTOM) return false;
  // The triangle's width grows linearly from its apex to its base.
  const half = (HALF_BASE * (y - TOP)) / (BOTTOM - TOP);
  return Math.abs(x - APEX) <= half;
}

/** How much of the pixel at (px, py) the square and the triangle cover, as sample counts out of SUPERSAMPLE². */
function sampled(px: number, py: number, scale: number): { covered: number; light: number } {
  let covered = 0;
  let light = 0;
  const step = scale / SUPERSAMPLE;
  for (let sy = 0; sy < SUPERSAMPLE; sy++) {
    for (let sx = 0; sx < SUPERSAMPLE; sx++) {
      const x = px * scale + (sx + 0.5) * step;
      const y = py * scale + (sy + 0.5) * step;
      if (!inRoundedSquare(x, y)) continue;
      covered++;
      if (inTriangle(x, y)) light++;
    }
  }
  return { covered, light };
}

/** RGBA pixels of the icon at `size` x `size`. */
export function drawIcon(size: number): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  const scale = VIEW / size;
  const full = SUPERSAMPLE ** 2;
  // Both shapes are convex: a pixel whose four corners agree lies wholly inside or outside them, and only the
  // pixels on an edge need sampling. Corners are shared by neighbouring pixels, so classify each once.
  const grid = size + 1;
  const square = new Uint8Array(grid * grid);
  const triangle = new Uint8Array(grid * grid);
  for (let y = 0; y < grid; y++) {
    for (let x = 0; x < grid; x++) {
      square[y * grid + x] = inRoundedSquare(x * scale, y * scale) ? 1 : 0;
      triangle[y * grid + x] = inTriangle(x * scale, y * scale) ? 1 : 0;
    }
  }
  const corners = (of: Uint8Array, px: number, py: number): number =>
    (of[py * grid + px] ?? 0) +
    (of[py * grid + px + 1] ?? 0) +
    (of[(py + 1) * grid + px] ?? 0) +
    (of[(py + 1) * grid + px + 1] ?? 0);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const inSquare = corners(square, px, py);
      const inTri = corners(triangle, px, py);
      let covered = full;
      let light = inTri === 4 ? full : 0;
      if (inSquare === 0) continue;
      if (inSquare < 4 || (inTri > 0 && inTri < 4)) ({ covered, light } = sampled(px, py, scale));
      if (covered === 0) continue;
      const at = (py * size + px) * 4;
      // The colour is the mix of the covered samples; the alpha is how much of the pixel is covered.
      for (let ch = 0; ch < 3; ch++) {
        const mixed = ((DARK[ch] ?? 0) * (covered - light) + (LIGHT[ch] ?? 0) * light) / covered;
        pixels[at + ch] = Math.round(mixed);
      }
      pixels[at + 3] = Math.round((covered / full) * 255);
    }
  }
  return pixels;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG (8-bit RGBA, no filtering) of the icon at `size` x `size`. */
export function iconPng(size: number): Uint8Array<ArrayBuffer> {
  const pixels = drawIcon(size);
  const rows = new Uint8Array(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    // Each scanline starts with its filter type, 0 (none).
    rows.set(pixels.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, size);
  view.setUint32(4, size);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, no filter method, no interlace
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** An ICO file holding one PNG per size (valid since Windows Vista, and read by every browser). */
export function iconIco(sizes: number[]): Uint8Array<ArrayBuffer> {
  const images = sizes.map((size) => ({ size, png: iconPng(size) }));
  const header = new Uint8Array(6 + 16 * images.length);
  const view = new DataView(header.buffer);
  view.setUint16(2, 1, true); // type 1: icon
  view.setUint16(4, images.length, true);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const at = 6 + 16 * i;
    header[at] = size >= 256 ? 0 : size; // 0 means 256
    header[at + 1] = size >= 256 ? 0 : size;
    view.setUint16(at + 4, 1, true); // colour planes
    view.setUint16(at + 6, 32, true); // bits per pixel
    view.setUint32(at + 8, png.length, true);
    view.setUint32(at + 12, offset, true);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.png)]);
}

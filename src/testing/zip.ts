// Test support: a small zip writer, so tests can make the archives people drop (and broken ones) byte by byte.

import { deflateRawSync } from "node:zlib";

export interface ZipEntry {
  name: string;
  data?: Uint8Array | string;
  /** 0 stored, 8 deflated (default); any other number is written as is, with the data stored. */
  method?: number;
  /** General purpose flags, e.g. 0x1 "encrypted". */
  flags?: number;
  /** Overrides of what the central directory declares (a lying size, a wrong checksum). */
  size?: number;
  crc?: number;
  /** Unix mode bits (0o120777 marks a symbolic link). */
  mode?: number;
}

const bytes = (data: Uint8Array | string | undefined): Uint8Array =>
  typeof data === "string" ? new TextEncoder().encode(data) : (data ?? new Uint8Array(0));

/** A zip archive of `entries`, in order, with a central directory and no comment. */
export function makeZip(entries: ZipEntry[]): Uint8Array<ArrayBuffer> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = bytes(entry.data);
    const method = entry.method ?? 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const name = new TextEncoder().encode(entry.name);
    const crc = entry.crc ?? Bun.hash.crc32(data);
    const size = entry.size ?? data.length;
    const flags = (entry.flags ?? 0) | 0x800;

    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, flags, true);
    local.setUint16(8, method, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, body.length, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    locals.push(new Uint8Array(local.buffer), name, body);

    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, entry.mode === undefined ? 20 : (3 << 8) | 20, true);
    central.setUint16(6, 20, true);
    central.setUint16(8, flags, true);
    central.setUint16(10, method, true);
    central.setUint32(16, crc, true);
    central.setUint32(20, body.length, true);
    central.setUint32(24, size, true);
    central.setUint16(28, name.length, true);
    central.setUint32(38, ((entry.mode ?? 0) << 16) >>> 0, true);
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), name);
    offset += 30 + name.length + body.length;
  }
  const directorySize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, directorySize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}

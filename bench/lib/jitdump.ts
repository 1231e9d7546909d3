// Benches: names for the JavaScript that `perf report` shows only as addresses under "[JIT] tid <pid>". With
// BUN_JSC_useJITDump=1 and BUN_JSC_jitDumpDirectory=<dir>, Bun's JavaScriptCore writes the address, size and name of
// every function it compiles to a jitdump file there, in the format perf documents
// (linux tools/perf/Documentation/jitdump-specification.txt); this reads those files back.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One compiled function: [start, end) in the process's memory. */
export interface JitCode {
  start: number;
  end: number;
  /** As JavaScriptCore names it: "<tier>: <function>#<hash>", e.g. "JSC-FTL: respond#A7UVnP". */
  name: string;
}

const JIT_CODE_LOAD = 0;

/** The compiled code of every process that wrote a dump in `dir`, by pid, in load order. */
export function readJitDumps(dir: string): Map<number, JitCode[]> {
  const byPid = new Map<number, JitCode[]>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^jit-.*\.dump$/.test(name));
  } catch {
    return byPid;
  }
  for (const name of names) {
    const bytes = readFileSync(join(dir, name));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // File header: magic, version, total_size, elf_mach, pad1, pid, timestamp, flags (all little-endian here).
    const headerSize = view.getUint32(8, true);
    const pid = view.getUint32(20, true);
    const codes: JitCode[] = [];
    // Records: id, total_size, timestamp, then the body; a code load's body is pid, tid, vma, code_addr, code_size,
    // code_index, the name (NUL-terminated) and the code. A record cut short (the process was killed) ends the file.
    for (let at = headerSize; at + 16 <= bytes.byteLength; ) {
      const id = view.getUint32(at, true);
      const size = view.getUint32(at + 4, true);
      if (size < 16 || at + size > bytes.byteLength) break;
      if (id === JIT_CODE_LOAD) {
        const start = Number(view.getBigUint64(at + 32, true));
        const length = Number(view.getBigUint64(at + 40, true));
        const nameStart = at + 56;
        const nameEnd = bytes.indexOf(0, nameStart);
        if (nameEnd < 0 || nameEnd > at + size) break;
        codes.push({ start, end: start + length, name: bytes.toString("utf8", nameStart, nameEnd) });
      }
      at += size;
    }
    byPid.set(pid, [...(byPid.get(pid) ?? []), ...codes]);
  }
  return byPid;
}

/** The function at `address`: the last one loaded there (memory of freed code is reused). */
export function jitName(codes: JitCode[], address: number): string | null {
  for (let i = codes.length - 1; i >= 0; i--) {
    const code = codes[i] as JitCode;
    if (code.start <= address && address < code.end) return code.name;
  }
  return null;
}

/**
 * The JavaScript functions' shares from `perf report --sort dso,sym` lines ("1.47%  [JIT] tid 22356  [.] 0x7f..."),
 * summed by function name (without JavaScriptCore's "#hash"), largest first.
 */
export function jitShares(reportLines: string[], dumps: Map<number, JitCode[]>): [string, number][] {
  const shares = new Map<string, number>();
  for (const line of reportLines) {
    const found = /^\s*([\d.]+)%\s+\[JIT\] tid (\d+)\s+\[\.\]\s+0x([0-9a-f]+)/.exec(line);
    if (!found) continue;
    const [, percent = "0", pid = "0", address = "0"] = found;
    const name = jitName(dumps.get(Number(pid)) ?? [], Number.parseInt(address, 16));
    const key =
      name === null ? "(unknown)" : name.replace(/^JSC-\w+: /, "").replace(/#\w+$/, "") || "(anonymous)";
    shares.set(key, (shares.get(key) ?? 0) + Number(percent));
  }
  return [...shares].sort((a, b) => b[1] - a[1]);
}

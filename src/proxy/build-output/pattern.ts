// Build Output routes: the regular expressions of an untrusted config.json, run in time linear in the input.
// Patterns are compiled to a small program and run as a Pike VM (every alternative advanced in lockstep, one
// character at a time), which gives the same match and captures as JavaScript's backtracking RegExp but can
// never backtrack: `(a+)+$` against a long path costs what `a+$` does. Lookaheads run as sub-programs, memoized
// per position. Why not RegExp: one deployment's pattern could otherwise stall the proxy for every site.
// One known difference: when a loop's body can match the empty string (`(a*?)+`), JavaScript's backtracking
// and this VM may pick different (equally valid) iterations, so the match may end elsewhere and captures may
// differ; whether it matches and where the match starts never do. `exact` says a pattern has no such loop.

import { type CharClass, type Node, parsePattern } from "./pattern-parse.ts";
import { compile, type Inst, MAX_INSTRUCTIONS, type Program, TooLarge } from "./pattern-program.ts";

/** A successful match: group 0 is the whole match; a group that did not take part is undefined. */
export interface PatternMatch {
  /** Where the match starts in the input. */
  index: number;
  groups: (string | undefined)[];
  /** Named groups, by name. */
  named: Record<string, string | undefined>;
}

export interface Pattern {
  source: string;
  /** Named groups, in the order they appear. */
  names: string[];
  /** No loop over something that can match empty: every answer is exactly RegExp's. */
  exact: boolean;
  /** The leftmost match in `input` (like RegExp.prototype.exec without the g flag), or null. */
  exec(input: string): PatternMatch | null;
}

const fold = (c: number, upper: boolean): number => {
  if (c < 128) {
    if (upper) return c >= 97 && c <= 122 ? c - 32 : c;
    return c >= 65 && c <= 90 ? c + 32 : c;
  }
  const s = String.fromCharCode(c);
  const t = upper ? s.toUpperCase() : s.toLowerCase();
  // Like JavaScript without the u flag: never a non-ASCII character to an ASCII one (the Kelvin sign is not k).
  return t.length === 1 && t.charCodeAt(0) >= 128 ? t.charCodeAt(0) : c;
};

function inRanges(cls: CharClass, c: number): boolean {
  for (const [lo, hi] of cls.ranges) if (c >= lo && c <= hi) return true;
  return false;
}

function classMatches(cls: CharClass, c: number, ignoreCase: boolean): boolean {
  const found =
    inRanges(cls, c) || (ignoreCase && (inRanges(cls, fold(c, false)) || inRanges(cls, fold(c, true))));
  return found !== cls.negate;
}

const isWord = (input: string, at: number): boolean => {
  const c = input.charCodeAt(at);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);
};

/** One run of a program over `input` from `start`; `anchored` only tries a match starting there. */
function run(
  program: Program,
  input: string,
  start: number,
  anchored: boolean,
  slots: number,
  ignoreCase: boolean,
  looks: Map<number, boolean>,
): Int32Array | null {
  const { insts, marks } = program;
  const n = input.length;
  let current: { pcs: number[]; caps: Int32Array[] } = { pcs: [], caps: [] };
  let next: { pcs: number[]; caps: Int32Array[] } = { pcs: [], caps: [] };
  const stackPcs: number[] = [];
  const stackCaps: Int32Array[] = [];
  let matched: Int32Array | null = null;

  const lookahead = (inst: Extract<Inst, { op: "look" }>, pos: number): boolean => {
    const key = inst.id * (n + 1) + pos;
    let found = looks.get(key);
    if (found === undefined) {
      found = run(inst.program, input, pos, true, slots, ignoreCase, looks) !== null;
      looks.set(key, found);
    }
    return found !== inst.negate;
  };

  /** Follows every empty transition from `pc` at `pos`, queueing the threads that wait for a character. */
  const add = (list: typeof current, pc0: number, caps0: Int32Array, pos: number): void => {
    stackPcs.push(pc0);
    stackCaps.push(caps0);
    while (stackPcs.length > 0) {
      const pc = stackPcs.pop() as number;
      const caps = stackCaps.pop() as Int32Array;
      if (marks[pc] === program.generation) continue;
      marks[pc] = program.generation;
      const inst = insts[pc] as Inst;
      switch (inst.op) {
        case "jmp":
          stackPcs.push(inst.x);
          stackCaps.push(caps);
          break;
        case "split":
          // y below x on the stack: x, the preferred branch, is explored (and claims its states) first.
          stackPcs.push(inst.y, inst.x);
          stackCaps.push(caps, caps);
          break;
        case "save": {
          const copy = caps.slice();
          copy[inst.slot] = pos;
          stackPcs.push(pc + 1);
          stackCaps.push(copy);
          break;
        }
        case "reset": {
          const copy = caps.slice();
          copy.fill(-1, inst.from, inst.to + 1);
          stackPcs.push(pc + 1);
          stackCaps.push(copy);
          break;
        }
        case "enter": {
          const copy = caps.slice();
          copy[inst.slot] = pos;
          stackPcs.push(pc + 1);
          stackCaps.push(copy);
          break;
        }
        case "progress":
          if (pos > (caps[inst.slot] as number)) {
            stackPcs.push(pc + 1);
            stackCaps.push(caps);
          }
          break;
        case "assert": {
          let ok: boolean;
          if (inst.what === "start") ok = pos === 0;
          else if (inst.what === "end") ok = pos === n;
          else {
            const boundary = (pos > 0 && isWord(input, pos - 1)) !== (pos < n && isWord(input, pos));
            ok = boundary === (inst.what === "word");
          }
          if (ok) {
            stackPcs.push(pc + 1);
            stackCaps.push(caps);
          }
          break;
        }
        case "look":
          if (lookahead(inst, pos)) {
            stackPcs.push(pc + 1);
            stackCaps.push(caps);
          }
          break;
        default:
          list.pcs.push(pc);
          list.caps.push(caps);
      }
    }
  };

  const initial = new Int32Array(slots).fill(-1);
  program.generation++;
  add(current, 0, initial, start);
  for (let pos = start; ; pos++) {
    program.generation++;
    const c = pos < n ? input.charCodeAt(pos) : -1;
    for (let t = 0; t < current.pcs.length; t++) {
      const pc = current.pcs[t] as number;
      const inst = insts[pc] as Inst;
      if (inst.op === "match") {
        const caps = (current.caps[t] as Int32Array).slice();
        caps[1] = pos;
        matched = caps;
        break; // threads after this one have lower priority
      }
      if (inst.op === "char" && c >= 0 && classMatches(inst.cls, c, ignoreCase))
        add(next, pc + 1, current.caps[t] as Int32Array, pos + 1);
    }
    if (pos >= n) break;
    if (!anchored && matched === null) {
      const fresh = initial.slice();
      fresh[0] = pos + 1;
      add(next, 0, fresh, pos + 1);
    }
    [current, next] = [next, current];
    next.pcs.length = 0;
    next.caps.length = 0;
    if (current.pcs.length === 0 && (anchored || matched !== null)) break;
  }
  if (matched && matched[0] === -1) matched[0] = start;
  return matched;
}

/** The character a node matches when it is one ASCII literal, else null (for case-insensitive comparisons). */
function literalChar(node: Node): string | null {
  if (node.kind !== "char" || node.cls.negate || node.cls.ranges.length !== 1) return null;
  const [lo, hi] = node.cls.ranges[0] as readonly [number, number];
  // ASCII only: other case mappings may change a string's length.
  return lo === hi && lo < 128 ? String.fromCharCode(lo) : null;
}

/**
 * Literal text every match contains, to skip the VM cheaply for most routes: the prefix of a pattern anchored
 * at the start (`^/_app/immutable/`), and the runs of literal characters of its top-level sequence (`.html` in
 * `^/(.*)\.html$`). Zero-width items (`^`, lookaheads, `\b`) do not break a run: they consume nothing.
 */
function requiredLiterals(node: Node): { prefix: string; runs: string[] } {
  const items = node.kind === "seq" ? node.items : [node];
  const anchored = items[0]?.kind === "assert" && items[0].what === "start";
  const runs: string[] = [];
  let prefix: string | null = null;
  let run = "";
  const flush = () => {
    prefix ??= anchored ? run : "";
    if (run.length >= 2) runs.push(run);
    run = "";
  };
  for (const item of items) {
    const c = literalChar(item);
    if (c !== null) run += c;
    else if (item.kind !== "assert" && item.kind !== "look") flush();
  }
  flush();
  return { prefix: prefix ?? "", runs };
}

/** Compiles a pattern; a string is the reason it is refused. `ignoreCase` is the `i` flag. */
export function compilePattern(source: string, options: { ignoreCase: boolean }): Pattern | string {
  const parsed = parsePattern(source);
  if (typeof parsed === "string") return parsed;
  let program: Program;
  const counter = { looks: 0, slots: 2 * (parsed.groups + 1) };
  const captureSlots = counter.slots;
  try {
    program = compile(parsed.node, counter);
  } catch (error) {
    if (error instanceof TooLarge) return `too complex (over ${MAX_INSTRUCTIONS} instructions once compiled)`;
    throw error;
  }
  const { ignoreCase } = options;
  const slots = counter.slots;
  const names = [...parsed.names.keys()];
  const literals = requiredLiterals(parsed.node);
  const normalize = (text: string) => (ignoreCase ? text.toLowerCase() : text);
  const prefix = normalize(literals.prefix);
  const runs = literals.runs.map(normalize);
  return {
    source,
    names,
    exact: counter.slots === captureSlots,
    exec(input) {
      if (prefix !== "" && normalize(input.slice(0, prefix.length)) !== prefix) return null;
      if (runs.length > 0) {
        const haystack = normalize(input);
        if (!runs.every((literal) => haystack.includes(literal))) return null;
      }
      const caps = run(program, input, 0, false, slots, ignoreCase, new Map());
      if (caps === null) return null;
      const groups: (string | undefined)[] = [];
      for (let g = 0; g <= parsed.groups; g++) {
        const from = caps[2 * g] as number;
        const to = caps[2 * g + 1] as number;
        groups.push(from >= 0 && to >= 0 ? input.slice(from, to) : undefined);
      }
      const named: Record<string, string | undefined> = {};
      for (const [name, index] of parsed.names) named[name] = groups[index];
      return { index: caps[0] as number, groups, named };
    },
  };
}

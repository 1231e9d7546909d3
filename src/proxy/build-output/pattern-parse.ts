// Build Output routes, step 0: a route's `src` (and `has` values) are regular expressions from an untrusted
// config. This parses them into a syntax tree for our own linear-time matcher (pattern.ts) instead of handing
// them to the engine's backtracking RegExp, which a pattern like `(a+)+$` can keep busy for minutes.
// The syntax is JavaScript's (what Vercel's tooling compiles PCRE to), plus PCRE's `(?P<name>...)`. What would
// mean something else in PCRE, or cannot run in linear time (backreferences, lookbehind), is refused, naming it.

export type CharRange = readonly [number, number];

/** A set of UTF-16 code units: the union of `ranges`, complemented when `negate`. */
export interface CharClass {
  ranges: CharRange[];
  negate: boolean;
}

export type Node =
  | { kind: "char"; cls: CharClass }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; items: Node[] }
  /** `index` is the capture number (1-based), null for `(?:...)`. */
  | { kind: "group"; index: number | null; body: Node }
  | { kind: "repeat"; body: Node; min: number; max: number; greedy: boolean }
  | { kind: "assert"; what: "start" | "end" | "word" | "nonword" }
  | { kind: "look"; negate: boolean; body: Node };

export interface ParsedPattern {
  node: Node;
  /** Number of capturing groups. */
  groups: number;
  /** Named groups -> capture number. */
  names: Map<string, number>;
}

/** Longest pattern accepted (Vercel's own schema allows 4096 characters). */
export const MAX_PATTERN_CHARS = 4096;
/** Largest `{n,m}` bound: bigger ones would unroll into huge programs. */
const MAX_REPEAT = 1000;

const DIGIT: CharRange[] = [[48, 57]];
const WORD: CharRange[] = [
  [48, 57],
  [65, 90],
  [95, 95],
  [97, 122],
];
const SPACE: CharRange[] = [
  [9, 13],
  [32, 32],
  [160, 160],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const LINE_TERMINATORS: CharRange[] = [
  [10, 10],
  [13, 13],
  [0x2028, 0x2029],
];
const CLASS_ESCAPES: Record<string, CharClass> = {
  d: { ranges: DIGIT, negate: false },
  D: { ranges: DIGIT, negate: true },
  w: { ranges: WORD, negate: false },
  W: { ranges: WORD, negate: true },
  s: { ranges: SPACE, negate: false },
  S: { ranges: SPACE, negate: true },
};
const CONTROL_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11 };

class Refused extends Error {}

const single = (code: number): Node => ({ kind: "char", cls: { ranges: [[code, code]], negate: false } });

/** Parses `source`; a string is the reason it is refused (for the deploy log). */
export function parsePattern(source: string): ParsedPattern | string {
  if (source.length > MAX_PATTERN_CHARS) return `longer than ${MAX_PATTERN_CHARS} characters`;
  let pos = 0;
  let groups = 0;
  const names = new Map<string, number>();
  const fail = (why: string): never => {
    throw new Refused(why);
  };
  const peek = (offset = 0) => source[pos + offset];

  function alternation(depth: number): Node {
    if (depth > 200) fail("groups nested too deeply");
    const items = [sequence(depth)];
    while (peek() === "|") {
      pos++;
      items.push(sequence(depth));
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "alt", items };
  }

  function sequence(depth: number): Node {
    const items: Node[] = [];
    while (pos < source.length && peek() !== "|" && peek() !== ")") {
      const item = atom(depth);
      items.push(quantified(item));
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "seq", items };
  }

  /** `{n}`, `{n,}` or `{n,m}` at `pos`, or null when the brace is a literal (JavaScript's lenient reading). */
  function braces(): { min: number; max: number; length: number } | null {
    const found = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(pos, pos + 24));
    if (!found) return null;
    const min = Number(found[1]);
    const max = found[2] === undefined ? min : found[3] === "" ? Number.POSITIVE_INFINITY : Number(found[3]);
    return { min, max, length: found[0].length };
  }

  function quantified(item: Node): Node {
    let min: number;
    let max: number;
    const c = peek();
    if (c === "*" || c === "+" || c === "?") {
      min = c === "+" ? 1 : 0;
      max = c === "?" ? 1 : Number.POSITIVE_INFINITY;
      pos++;
    } else if (c === "{" && braces()) {
      const b = braces() as { min: number; max: number; length: number };
      ({ min, max } = b);
      pos += b.length;
      if (max < min) fail("numbers out of order in {} quantifier");
      if (min > MAX_REPEAT || (max !== Number.POSITIVE_INFINITY && max > MAX_REPEAT))
        fail(`repetition count above ${MAX_REPEAT}`);
    } else return item;
    if (item.kind === "assert" || item.kind === "look") fail("a quantifier after an assertion");
    let greedy = true;
    if (peek() === "?") {
      greedy = false;
      pos++;
    }
    if (peek() === "*" || peek() === "+" || peek() === "?" || (peek() === "{" && braces()))
      fail("nothing to repeat (possessive and double quantifiers are PCRE-only)");
    return { kind: "repeat", body: item, min, max, greedy };
  }

  function atom(depth: number): Node {
    const c = source[pos] as string;
    switch (c) {
      case "(":
        return group(depth);
      case "[":
        return charClass();
      case ".":
        pos++;
        return { kind: "char", cls: { ranges: LINE_TERMINATORS, negate: true } };
      case "^":
        pos++;
        return { kind: "assert", what: "start" };
      case "$":
        pos++;
        return { kind: "assert", what: "end" };
      case "\\":
        return escapeAtom();
      case "*":
      case "+":
      case "?":
        return fail("nothing to repeat");
      case "{":
        if (braces()) fail("nothing to repeat");
        pos++;
        return single(123);
      default:
        pos++;
        return single(c.charCodeAt(0));
    }
  }

  function group(depth: number): Node {
    pos++;
    let index: number | null = null;
    let look: { negate: boolean } | null = null;
    if (peek() === "?") {
      const rest = source.slice(pos, pos + 3);
      if (rest.startsWith("?:")) pos += 2;
      else if (rest.startsWith("?=") || rest.startsWith("?!")) {
        look = { negate: rest[1] === "!" };
        pos += 2;
      } else if (rest.startsWith("?<=") || rest.startsWith("?<!")) fail("lookbehind is not supported");
      else if (rest.startsWith("?<") || rest.startsWith("?P<")) {
        pos += rest.startsWith("?P<") ? 3 : 2;
        const name = /^[A-Za-z_][A-Za-z0-9_]*>/.exec(source.slice(pos, pos + 130));
        if (!name) fail("invalid group name");
        const id = (name as RegExpExecArray)[0].slice(0, -1);
        if (names.has(id)) fail(`duplicate group name "${id}"`);
        index = ++groups;
        names.set(id, index);
        pos += id.length + 1;
      } else fail(`unsupported group syntax "(${rest}"`);
    } else index = ++groups;
    const body = alternation(depth + 1);
    if (peek() !== ")") fail("unterminated group");
    pos++;
    return look ? { kind: "look", negate: look.negate, body } : { kind: "group", index, body };
  }

  /** One escaped code unit (`\n`, `\x41`, `\u0041`, `\cJ`, `\/`...), or the class of `\d`, `\w`, `\s` and their negations. */
  function escapedUnit(inClass: boolean): number | CharClass {
    pos++;
    const c = peek();
    if (c === undefined) return fail("\\ at end of pattern");
    pos++;
    const cls = CLASS_ESCAPES[c];
    if (cls) return cls;
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return control;
    if (c === "b" && inClass) return 8;
    if (c === "0" && !/[0-9]/.test(peek() ?? "")) return 0;
    if (/[1-9]/.test(c)) return fail("backreferences are not supported");
    if (c === "x" || c === "u") {
      const length = c === "x" ? 2 : 4;
      const hex = source.slice(pos, pos + length);
      if (hex.length === length && /^[0-9A-Fa-f]+$/.test(hex)) {
        pos += length;
        return Number.parseInt(hex, 16);
      }
      return fail(`\\${c} must be followed by ${length} hex digits`);
    }
    if (c === "c" && /[A-Za-z]/.test(peek() ?? "")) {
      pos++;
      return (source.charCodeAt(pos - 1) as number) % 32;
    }
    // JavaScript reads any other escaped letter as the letter itself, PCRE as something else (\A, \z, \p{L}...):
    // refusing it is the only reading both agree on. Escaped punctuation (\/ \. \-) is the character.
    if (/[A-Za-z0-9]/.test(c)) return fail(`unsupported escape \\${c}`);
    return c.charCodeAt(0);
  }

  function escapeAtom(): Node {
    const next = source[pos + 1];
    if (next === "b" || next === "B") {
      pos += 2;
      return { kind: "assert", what: next === "b" ? "word" : "nonword" };
    }
    const unit = escapedUnit(false);
    return typeof unit === "number" ? single(unit) : { kind: "char", cls: unit };
  }

  function charClass(): Node {
    pos++;
    const negate = peek() === "^";
    if (negate) pos++;
    const ranges: CharRange[] = [];
    const classes: CharClass[] = [];
    while (peek() !== "]") {
      if (pos >= source.length) fail("unterminated character class");
      if (peek() === "[" && peek(1) === ":") fail("POSIX character classes ([:alpha:]) are not supported");
      const lo = classUnit();
      if (peek() === "-" && peek(1) !== "]" && peek(1) !== undefined) {
        pos++;
        const hi = classUnit();
        if (typeof lo !== "number" || typeof hi !== "number")
          fail("a range with a class escape (\\d, \\w...)");
        if ((hi as number) < (lo as number)) fail("range out of order in character class");
        ranges.push([lo as number, hi as number]);
      } else if (typeof lo === "number") ranges.push([lo, lo]);
      else classes.push(lo);
    }
    pos++;
    if (classes.length === 0) return { kind: "char", cls: { ranges, negate } };
    // Negated escapes inside a class (`[\D]`, `[^\W_]`) are unions of complements: expand them to ranges.
    for (const cls of classes) ranges.push(...(cls.negate ? complement(cls.ranges) : cls.ranges));
    return { kind: "char", cls: { ranges, negate } };
  }

  function classUnit(): number | CharClass {
    if (peek() === "\\") return escapedUnit(true);
    pos++;
    return source.charCodeAt(pos - 1);
  }

  try {
    const node = alternation(0);
    if (pos < source.length) fail("unmatched )");
    return { node, groups, names };
  } catch (error) {
    if (error instanceof Refused) return error.message;
    throw error;
  }
}

/** The code units (0..0xFFFF) not in `ranges`. */
export function complement(ranges: CharRange[]): CharRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CharRange[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

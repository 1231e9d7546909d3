// Build Output routes: a route pattern's syntax tree compiled to the program pattern.ts runs. Bounded
// repetitions are unrolled (capped), loops become split/jump pairs, captures become save instructions.

import type { CharClass, Node } from "./pattern-parse.ts";

export type Inst =
  | { op: "char"; cls: CharClass }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "save"; slot: number }
  /** Clears the captures of a repeated group at each iteration (JavaScript forgets the previous one). */
  | { op: "reset"; from: number; to: number }
  /** Records where an optional iteration starts, in an extra slot after the captures. */
  | { op: "enter"; slot: number }
  /** Ends an optional iteration: JavaScript refuses one that matched nothing (else `(a*)*` could loop). */
  | { op: "progress"; slot: number }
  | { op: "assert"; what: "start" | "end" | "word" | "nonword" }
  | { op: "look"; program: Program; negate: boolean; id: number }
  | { op: "match" };

export interface Program {
  insts: Inst[];
  /** Per-instruction mark of the step that last visited it (a sparse set, reset by bumping `generation`). */
  marks: Int32Array;
  generation: number;
}

/** Upper bound on compiled instructions per pattern (bounded repetitions are unrolled). */
export const MAX_INSTRUCTIONS = 20_000;

export class TooLarge extends Error {}

function groupsIn(node: Node, into: number[]): number[] {
  switch (node.kind) {
    case "group":
      if (node.index !== null) into.push(node.index);
      return groupsIn(node.body, into);
    case "seq":
    case "alt":
      for (const item of node.items) groupsIn(item, into);
      return into;
    case "repeat":
    case "look":
      return groupsIn(node.body, into);
    default:
      return into;
  }
}

/** Whether `node` can match the empty string. */
function nullable(node: Node): boolean {
  switch (node.kind) {
    case "char":
      return false;
    case "seq":
      return node.items.every(nullable);
    case "alt":
      return node.items.some(nullable);
    case "group":
      return nullable(node.body);
    case "repeat":
      return node.min === 0 || nullable(node.body);
    default:
      return true;
  }
}

/** `counter.slots`: the next free slot after the captures, for the iteration starts of nullable loops. */
export function compile(node: Node, counter: { looks: number; slots: number }): Program {
  const insts: Inst[] = [];
  const push = (inst: Inst): number => {
    if (insts.length >= MAX_INSTRUCTIONS) throw new TooLarge();
    insts.push(inst);
    return insts.length - 1;
  };
  const emit = (n: Node): void => {
    switch (n.kind) {
      case "char":
        push({ op: "char", cls: n.cls });
        return;
      case "assert":
        push({ op: "assert", what: n.what });
        return;
      case "seq":
        for (const item of n.items) emit(item);
        return;
      case "alt": {
        const exits: number[] = [];
        for (const item of n.items.slice(0, -1)) {
          const split = push({ op: "split", x: insts.length + 1, y: 0 });
          emit(item);
          exits.push(push({ op: "jmp", x: 0 }));
          (insts[split] as { y: number }).y = insts.length;
        }
        emit(n.items[n.items.length - 1] as Node);
        for (const exit of exits) (insts[exit] as { x: number }).x = insts.length;
        return;
      }
      case "group":
        if (n.index === null) {
          emit(n.body);
          return;
        }
        push({ op: "save", slot: 2 * n.index });
        emit(n.body);
        push({ op: "save", slot: 2 * n.index + 1 });
        return;
      case "look":
        push({ op: "look", program: compile(n.body, counter), negate: n.negate, id: counter.looks++ });
        return;
      case "repeat": {
        const inner = groupsIn(n.body, []);
        const slot = nullable(n.body) ? counter.slots++ : -1;
        const iteration = (optional: boolean) => {
          if (inner.length > 0)
            push({ op: "reset", from: 2 * Math.min(...inner), to: 2 * Math.max(...inner) + 1 });
          if (optional && slot >= 0) push({ op: "enter", slot });
          emit(n.body);
          if (optional && slot >= 0) push({ op: "progress", slot });
        };
        for (let i = 0; i < n.min; i++) iteration(false);
        if (n.max === Number.POSITIVE_INFINITY) {
          const loop = push({ op: "split", x: 0, y: 0 });
          iteration(true);
          push({ op: "jmp", x: loop });
          const split = insts[loop] as { x: number; y: number };
          [split.x, split.y] = n.greedy ? [loop + 1, insts.length] : [insts.length, loop + 1];
          return;
        }
        const splits: number[] = [];
        for (let i = n.min; i < n.max; i++) {
          splits.push(push({ op: "split", x: 0, y: 0 }));
          iteration(true);
        }
        for (const at of splits) {
          const split = insts[at] as { x: number; y: number };
          [split.x, split.y] = n.greedy ? [at + 1, insts.length] : [insts.length, at + 1];
        }
        return;
      }
    }
  };
  emit(node);
  push({ op: "match" });
  return { insts, marks: new Int32Array(insts.length), generation: 0 };
}

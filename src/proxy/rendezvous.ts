// Rendezvous (highest-random-weight) hashing: every proxy ranks the functions nodes for a function the same way,
// with no shared state, so one function's instances stay warm on one node; a node joining or leaving moves only
// the functions it takes or held. Weighted: a node's share of functions is proportional to its weight.

export interface Weighted {
  id: string;
  /** Relative share (a node's capacity); > 0. */
  weight: number;
}

/** A uniform number in (0, 1) from the pair (node, key). */
function unit(id: string, key: string): number {
  const hash = BigInt(Bun.hash.wyhash(`${id}\n${key}`));
  return (Number(hash >> 11n) + 0.5) / 2 ** 53;
}

/**
 * The score of a node for a key: -weight / ln(u), the weighted form (Schindelhauer and Schomaker), under which each
 * node wins a share of the keys proportional to its weight.
 */
export function score(node: Weighted, key: string): number {
  return -node.weight / Math.log(unit(node.id, key));
}

/** The nodes in the order to try for `key`: the highest score first (ties broken by id, so every proxy agrees). */
export function rank<T extends Weighted>(key: string, nodes: readonly T[]): T[] {
  return nodes
    .map((node) => ({ node, score: score(node, key) }))
    .sort((a, b) => b.score - a.score || (a.node.id < b.node.id ? -1 : 1))
    .map(({ node }) => node);
}

// Commit points for at-least-once consumption over Kafka: per partition, the offset below which every
// fetched message has been applied, however out of order the keyed queue finishes them.

/** One partition for as long as a consumer holds it; a new track each time the partition is (re)assigned. */
export interface PartitionTrack {
  readonly partition: number;
  /**
   * Registers a fetched message. False when this track already took it (a re-fetch after a rebalance or
   * a consumer restart): it is applied or still in flight, so it must not run twice here.
   */
  take(offset: bigint): boolean;
  /** The message is applied (or dead-lettered): it no longer holds the commit point back. */
  done(offset: bigint): void;
  /** The offset to commit (the next one to read) when it has moved past the last commit, else null. */
  due(): bigint | null;
  committed(offset: bigint): void;
  /** Messages taken and not yet done. */
  readonly inFlight: number;
}

/** `start`: where reading begins when the group had no commit for the partition; committed on the next flush. */
export function partitionTrack(partition: number, start: bigint | null = null): PartitionTrack {
  const pending = new Set<bigint>();
  let highest = start === null ? null : start - 1n;
  let committed: bigint | null = null;

  return {
    partition,
    take(offset) {
      if (highest !== null && offset <= highest) return false;
      highest = offset;
      pending.add(offset);
      return true;
    },
    done(offset) {
      pending.delete(offset);
    },
    due() {
      if (highest === null) return null;
      // In flight is bounded (the consumer stops fetching past a limit), so a scan is cheap.
      let point = highest + 1n;
      for (const offset of pending) if (offset < point) point = offset;
      return committed !== null && point <= committed ? null : point;
    },
    committed(offset) {
      if (committed === null || offset > committed) committed = offset;
    },
    get inFlight() {
      return pending.size;
    },
  };
}

/*
 * One 32-bit hash of the patient id decides both the shard (hash mod N) and the order of the
 * outputs (hash, then id): every run, sharded or not, lists patients in the same order, so shard
 * outputs merge into exactly the single run's output.
 */

/** FNV-1a over UTF-16 code units, then murmur3's finaliser to spread the high bits. */
export function hashPatientId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function shardOf(id: string, count: number): number {
  return hashPatientId(id) % count;
}

/** Partition `0…partitions-1` by the hash's range, so partitions in order are patients in order. */
export function partitionOf(hash: number, partitions: number): number {
  return Math.floor((hash / 2 ** 32) * partitions);
}

export function comparePatients(a: string, b: string): number {
  const ha = hashPatientId(a);
  const hb = hashPatientId(b);
  if (ha !== hb) {
    return ha - hb;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

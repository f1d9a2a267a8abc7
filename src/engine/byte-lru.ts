/**
 * Least-recently-used map bounded by an estimate of the bytes it holds, not by its number of entries:
 * keys come from outside (unit strings in FHIR data), so a count bound alone would let a few long keys
 * take any amount of memory. A Map keeps insertion order, so re-inserting on a hit keeps the least
 * recently used entry first, where eviction starts.
 */
export class ByteBoundedLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private totalBytes = 0;
  private mostRecentKey: string | undefined;

  constructor(
    readonly maxBytes: number,
    private readonly sizeOf: (key: string, value: V) => number,
  ) {
    if (!Number.isFinite(maxBytes) || maxBytes <= 0) {
      throw new RangeError(`maxBytes must be a positive number; got ${maxBytes}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    // Results repeat the same unit for long runs; skip the re-insertion when nothing would move.
    if (key !== this.mostRecentKey) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.mostRecentKey = key;
    }
    return entry.value;
  }

  /** Stores the value unless it alone is larger than the whole budget (then nothing is kept). */
  set(key: string, value: V): void {
    const bytes = this.sizeOf(key, value);
    this.delete(key);
    if (bytes > this.maxBytes) {
      return;
    }
    this.entries.set(key, { value, bytes });
    this.mostRecentKey = key;
    this.totalBytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) {
        break;
      }
      this.entries.delete(oldest);
      this.totalBytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.totalBytes -= entry.bytes;
      if (key === this.mostRecentKey) {
        this.mostRecentKey = undefined;
      }
    }
  }
}

/** Rough heap cost of a string: two bytes per UTF-16 unit plus V8's header. */
export function stringBytes(text: string): number {
  return 16 + 2 * text.length;
}

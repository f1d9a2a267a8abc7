/**
 * Remembers JWT ids until their token expires so a captured token cannot be replayed.
 * Behind an interface so several instances behind a load balancer can share one (e.g. Redis SET NX PX).
 */
export interface ReplayCache {
  /**
   * True when `jti` is new (and now remembered until `expiresAt`); false when it was seen before.
   * Throws `StoreUnavailableError` when the check cannot be made: the caller then refuses with 503.
   */
  checkAndRemember(jti: string, expiresAt: Date): Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  /** Upper bound on remembered ids; when full, new ids are refused rather than old ones forgotten. */
  maxEntries?: number;
  now?: () => Date;
}

export interface MemoryReplayCache extends ReplayCache {
  readonly size: number;
  /** Forget every id whose token has expired. Runs on its own while the cache is written to. */
  sweep(): void;
}

const DEFAULT_MAX_ENTRIES = 100_000;

export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): MemoryReplayCache {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const now = options.now ?? (() => new Date());
  const expiries = new Map<string, number>();
  let nextSweepAt = 0;

  const sweep = (): void => {
    const t = now().getTime();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [jti, expiresAt] of expiries) {
      if (expiresAt <= t) {
        expiries.delete(jti);
      } else if (expiresAt < earliest) {
        earliest = expiresAt;
      }
    }
    nextSweepAt = earliest;
  };

  return {
    get size() {
      return expiries.size;
    },
    sweep,
    checkAndRemember(jti, expiresAt) {
      const t = now().getTime();
      // Sweeping only once the earliest entry can have expired keeps the common path O(1).
      if (t >= nextSweepAt || expiries.size >= maxEntries) {
        sweep();
      }
      const known = expiries.get(jti);
      if (known !== undefined && known > t) {
        return Promise.resolve(false);
      }
      // Failing closed when full: forgetting a live id would let that token be replayed.
      if (expiries.size >= maxEntries) {
        return Promise.resolve(false);
      }
      const expiry = expiresAt.getTime();
      expiries.set(jti, expiry);
      nextSweepAt = Math.min(nextSweepAt, expiry);
      return Promise.resolve(true);
    },
  };
}

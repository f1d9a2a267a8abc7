import { randomBytes } from 'node:crypto';

/**
 * Short-lived storage behind the trend links that cards carry. The id is the only thing the URL holds,
 * so it must be unguessable; the payload never leaves the service except through the trend page.
 * An in-memory default is enough for one instance; behind a load balancer this moves to a shared store.
 */
export interface TrendLinkStore<T = unknown> {
  /** Keeps `payload` for `ttlMs` and returns a fresh random id for it. */
  put(payload: T, ttlMs: number): Promise<string>;
  /** The payload, or undefined when the id is unknown, expired or evicted. */
  get(id: string): Promise<T | undefined>;
}

export interface InMemoryTrendLinkStoreOptions {
  /** Upper bound on live entries; the oldest entry is evicted first when it is reached. */
  maxEntries: number;
  /** How often `put` walks the map to drop expired entries (default 60 s). */
  sweepIntervalMs?: number;
  /** Injected clock in epoch milliseconds, for tests. */
  now?: () => number;
}

interface Entry<T> {
  payload: T;
  expiresAt: number;
}

/** 24 random bytes = 192 bits, comfortably above the 128-bit floor for bearer-style capability URLs. */
const ID_BYTES = 24;
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** True when `id` has the shape this store mints; lets routers reject junk before a lookup. */
export function isTrendLinkId(id: string): boolean {
  return ID_PATTERN.test(id);
}

// One call into the CSPRNG per 128 ids rather than per id: the call, not the bytes, is the cost.
const POOL_IDS = 128;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function mintTrendLinkId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  // Spent bytes are zeroed so that no id can be recovered from the pool later.
  pool.fill(0, poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

/**
 * Bounded map with per-entry TTL. A Map keeps insertion order, so the first key is always the oldest
 * entry: eviction and the expiry sweep are both cheap walks from the front.
 */
export class InMemoryTrendLinkStore<T = unknown> implements TrendLinkStore<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private nextSweepAt = 0;

  constructor(options: InMemoryTrendLinkStoreOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer; got ${options.maxEntries}`);
    }
    this.maxEntries = options.maxEntries;
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  async put(payload: T, ttlMs: number): Promise<string> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive number; got ${ttlMs}`);
    }
    const now = this.now();
    if (now >= this.nextSweepAt) {
      this.sweepExpired(now);
      this.nextSweepAt = now + this.sweepIntervalMs;
    }
    if (this.entries.size >= this.maxEntries) {
      // A full store at steady state would otherwise walk every entry on every put. Expired entries
      // at the front go first; with one TTL for all links (the publisher's) the oldest entry is
      // also the next to expire, so evicting it never drops a link that outlives an expired one.
      this.dropExpiredFromFront(now);
    }
    while (this.entries.size >= this.maxEntries) {
      this.evictOldest();
    }
    let id = mintTrendLinkId();
    // A collision at 192 bits is not going to happen, but overwriting another patient's entry must not either.
    while (this.entries.has(id)) {
      id = mintTrendLinkId();
    }
    this.entries.set(id, { payload, expiresAt: now + ttlMs });
    return id;
  }

  async get(id: string): Promise<T | undefined> {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  // No timer: an interval would keep the process alive and run when nobody is using the store.
  private sweepExpired(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(id);
      }
    }
  }

  private dropExpiredFromFront(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt > now) {
        return;
      }
      this.entries.delete(id);
    }
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) {
      this.entries.delete(oldest.value);
    }
  }
}

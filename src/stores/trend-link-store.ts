import { randomBytes } from 'node:crypto';
import { jsonBytes } from './store-errors.js';

/**
 * Short-lived storage behind the trend links that cards carry. The id is the only thing the URL holds,
 * so it must be unguessable; the payload never leaves the service except through the trend page.
 * An in-memory default is enough for one instance; behind a load balancer this moves to a shared store.
 */
export interface TrendLinkStore<T = unknown> {
  /**
   * Keeps `payload` for `ttlMs` and returns a fresh random id for it. `owner` names the CDS client
   * it was made for (its verified issuer, or `anonymous`), so one client cannot crowd out the rest.
   */
  put(payload: T, ttlMs: number, owner?: string): Promise<string>;
  /** The payload, or undefined when the id is unknown, expired or evicted. */
  get(id: string): Promise<T | undefined>;
}

/** The owner of links made for callers that did not authenticate (open mode). */
export const ANONYMOUS_OWNER = 'anonymous';

export interface InMemoryTrendLinkStoreOptions {
  /** Upper bound on the bytes of live payloads (as JSON); the oldest entry of the largest owner goes first. */
  maxBytes?: number;
  /** Optional upper bound on live entries as well. */
  maxEntries?: number;
  /** Largest share of `maxBytes` one owner may hold before its own oldest links go (default 0.5). */
  maxOwnerShare?: number;
  /** How often `put` walks the map to drop expired entries (default 60 s). */
  sweepIntervalMs?: number;
  /** Injected clock in epoch milliseconds, for tests. */
  now?: () => number;
}

interface Entry<T> {
  payload: T;
  expiresAt: number;
  owner: string;
  bytes: number;
}

interface Owner {
  bytes: number;
  /** This owner's ids, oldest first. */
  ids: Set<string>;
}

export const DEFAULT_TREND_LINK_MAX_BYTES = 16 * 1024 * 1024;
// Map slot, entry object, id string and owner bookkeeping, beyond the payload's JSON.
const ENTRY_OVERHEAD_BYTES = 200;

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
 * Bounded map with per-entry TTL, bounded by payload bytes. Fairness between CDS clients: when the
 * store is full, the oldest link of the owner holding the most bytes goes first, and no owner may
 * hold more than `maxOwnerShare` of the budget. Anonymous traffic, however fast, therefore evicts
 * its own links and never more than its share of anyone else's.
 */
export class InMemoryTrendLinkStore<T = unknown> implements TrendLinkStore<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly owners = new Map<string, Owner>();
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly maxOwnerBytes: number;
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private bytes = 0;
  private nextSweepAt = 0;

  constructor(options: InMemoryTrendLinkStoreOptions = {}) {
    const { maxBytes = DEFAULT_TREND_LINK_MAX_BYTES, maxEntries = Number.MAX_SAFE_INTEGER } =
      options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer; got ${maxEntries}`);
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer; got ${maxBytes}`);
    }
    const share = options.maxOwnerShare ?? 0.5;
    if (!(share > 0 && share <= 1)) {
      throw new RangeError(`maxOwnerShare must be in (0, 1]; got ${share}`);
    }
    this.maxBytes = maxBytes;
    this.maxEntries = maxEntries;
    this.maxOwnerBytes = Math.floor(maxBytes * share);
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Bytes held per owner, for tests and diagnostics. */
  bytesOf(owner: string): number {
    return this.owners.get(owner)?.bytes ?? 0;
  }

  async put(payload: T, ttlMs: number, owner: string = ANONYMOUS_OWNER): Promise<string> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive number; got ${ttlMs}`);
    }
    const now = this.now();
    if (now >= this.nextSweepAt) {
      this.sweepExpired(now);
      this.nextSweepAt = now + this.sweepIntervalMs;
    }
    const bytes = jsonBytes(payload) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxOwnerBytes) {
      throw new RangeError(`trend link payload of ${bytes} bytes exceeds one owner's share`);
    }
    // The owner's own oldest links make room first when it is at its share.
    const own = this.owners.get(owner);
    while (own !== undefined && own.bytes + bytes > this.maxOwnerBytes) {
      this.evictOldestOf(own);
    }
    while (
      this.entries.size > 0 &&
      (this.bytes + bytes > this.maxBytes || this.entries.size >= this.maxEntries)
    ) {
      this.evictFromLargestOwner(now);
    }
    let id = mintTrendLinkId();
    // A collision at 192 bits is not going to happen, but overwriting another patient's entry must not either.
    while (this.entries.has(id)) {
      id = mintTrendLinkId();
    }
    this.entries.set(id, { payload, expiresAt: now + ttlMs, owner, bytes });
    let record = this.owners.get(owner);
    if (record === undefined) {
      record = { bytes: 0, ids: new Set() };
      this.owners.set(owner, record);
    }
    record.ids.add(id);
    record.bytes += bytes;
    this.bytes += bytes;
    return id;
  }

  async get(id: string): Promise<T | undefined> {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.expiresAt <= this.now()) {
      this.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  // No timer: an interval would keep the process alive and run when nobody is using the store.
  private sweepExpired(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.delete(id);
      }
    }
  }

  private evictFromLargestOwner(now: number): void {
    // Expired entries at the front go first: with one TTL for all links the oldest is the next to expire.
    const oldest = this.entries.entries().next();
    if (oldest.done !== true && oldest.value[1].expiresAt <= now) {
      this.delete(oldest.value[0]);
      return;
    }
    let largest: Owner | undefined;
    for (const owner of this.owners.values()) {
      if (largest === undefined || owner.bytes > largest.bytes) {
        largest = owner;
      }
    }
    if (largest !== undefined) {
      this.evictOldestOf(largest);
    }
  }

  private evictOldestOf(owner: Owner): void {
    const oldest = owner.ids.values().next();
    if (oldest.done !== true) {
      this.delete(oldest.value);
    }
  }

  private delete(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return;
    }
    this.entries.delete(id);
    this.bytes -= entry.bytes;
    const owner = this.owners.get(entry.owner);
    if (owner !== undefined) {
      owner.ids.delete(id);
      owner.bytes -= entry.bytes;
      if (owner.ids.size === 0) {
        this.owners.delete(entry.owner);
      }
    }
  }
}

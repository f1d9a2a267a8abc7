import type { FeedbackItem } from '../cds/schemas.js';
import { jsonBytes } from './store-errors.js';

/** One feedback item as received, with the service it was sent to and when it arrived. */
export interface StoredFeedback {
  serviceId: string;
  receivedAt: string;
  item: FeedbackItem;
}

/** Counts of feedback by service, outcome and override reason code (`null`: no reason given). */
export interface FeedbackTally {
  serviceId: string;
  outcome: FeedbackItem['outcome'];
  reasonCode: string | null;
  count: number;
}

/**
 * Where card outcomes go: in memory by default, PostgreSQL when `DATABASE_URL` is set. A store that
 * cannot be reached throws `StoreUnavailableError`, which the feedback route answers with 503.
 */
export interface FeedbackStore {
  save(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<void>;
  /** Oldest first; only items received at or after `since` when given. */
  list(serviceId?: string, since?: Date): Promise<StoredFeedback[]>;
  tally(): Promise<FeedbackTally[]>;
}

/** The override reason code a tally groups by: the coding's code, or null when none was sent. */
export function reasonCodeOf(item: FeedbackItem): string | null {
  return item.overrideReason?.reason?.code ?? null;
}

export interface InMemoryFeedbackStoreOptions {
  /** Upper bound on the JSON bytes kept; the oldest items go first (default 8 MiB). */
  maxBytes?: number;
}

export const DEFAULT_FEEDBACK_MAX_BYTES = 8 * 1024 * 1024;
// Per-item bookkeeping beyond its JSON: the wrapper object, the two strings and the array slot.
const ITEM_OVERHEAD_BYTES = 160;

/**
 * Keeps the newest items up to a byte budget, so a chatty client cannot grow memory without bound
 * by sending long comments (a count bound lets 10 000 items of 4 kB each through).
 */
export class InMemoryFeedbackStore implements FeedbackStore {
  private items: { stored: StoredFeedback; bytes: number }[] = [];
  private head = 0;
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(options: InMemoryFeedbackStoreOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_FEEDBACK_MAX_BYTES;
  }

  get byteSize(): number {
    return this.bytes;
  }

  async save(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<void> {
    const at = receivedAt.toISOString();
    for (const item of items) {
      const bytes = jsonBytes(item) + serviceId.length + ITEM_OVERHEAD_BYTES;
      this.items.push({ stored: { serviceId, receivedAt: at, item }, bytes });
      this.bytes += bytes;
    }
    while (this.bytes > this.maxBytes && this.head < this.items.length) {
      this.bytes -= this.items[this.head]?.bytes ?? 0;
      this.head += 1;
    }
    // Compact once the dropped prefix is half the array, so eviction stays amortised O(1).
    if (this.head > 0 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  async list(serviceId?: string, since?: Date): Promise<StoredFeedback[]> {
    const from = since?.getTime();
    const out: StoredFeedback[] = [];
    for (let i = this.head; i < this.items.length; i += 1) {
      const stored = this.items[i]?.stored;
      if (
        stored !== undefined &&
        (serviceId === undefined || stored.serviceId === serviceId) &&
        (from === undefined || Date.parse(stored.receivedAt) >= from)
      ) {
        out.push(stored);
      }
    }
    return out;
  }

  async tally(): Promise<FeedbackTally[]> {
    const counts = new Map<string, FeedbackTally>();
    for (const { serviceId, item } of await this.list()) {
      const reasonCode = item.outcome === 'overridden' ? reasonCodeOf(item) : null;
      const key = JSON.stringify([serviceId, item.outcome, reasonCode]);
      const row = counts.get(key);
      if (row === undefined) {
        counts.set(key, { serviceId, outcome: item.outcome, reasonCode, count: 1 });
      } else {
        row.count += 1;
      }
    }
    return [...counts.values()];
  }
}

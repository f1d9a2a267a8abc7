import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ReplayCache } from './replay-cache.js';
import { StoreUnavailableError } from './store-errors.js';
import { isTrendLinkId, mintTrendLinkId, type TrendLinkStore } from './trend-link-store.js';

/** Shared by every replica: links from all of them count against one budget. */
export const REDIS_TREND_LINK_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_KEY_PREFIX = 'htc:';

/*
 * Stores a link and keeps the total under the byte cap in one atomic step: drop index entries whose
 * link has expired, evict the oldest live links while the new payload does not fit, then SET NX PX.
 */
const PUT_SCRIPT = `
local prefix = KEYS[1]
local id, payload = ARGV[1], ARGV[2]
local ttl, now, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local index, sizes, total = prefix .. 'index', prefix .. 'sizes', prefix .. 'bytes'
local function forget(old, drop)
  local size = tonumber(redis.call('HGET', sizes, old) or '0')
  redis.call('HDEL', sizes, old)
  redis.call('ZREM', index, old)
  if drop then redis.call('DEL', prefix .. 'link:' .. old) end
  redis.call('DECRBY', total, size)
  return size
end
for _, old in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 200)) do
  forget(old, false)
end
local size = string.len(payload)
local current = tonumber(redis.call('GET', total) or '0')
while current + size > max do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if not oldest then break end
  current = current - forget(oldest, true)
end
if not redis.call('SET', prefix .. 'link:' .. id, payload, 'PX', ttl, 'NX') then return 0 end
-- Links made in the same millisecond keep their order: a sequence number in the fraction.
local seq = redis.call('INCR', prefix .. 'seq') % 1000
redis.call('ZADD', index, now + ttl + seq / 1000, id)
redis.call('HSET', sizes, id, size)
redis.call('INCRBY', total, size)
return 1
`;

export interface RedisStores {
  replayCache: ReplayCache;
  trendLinks: TrendLinkStore;
  description: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `host:port` of a connection URL, never the password. */
export function describeRedis(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

/**
 * Connects to Redis and returns the Redis-backed stores. Commands issued while the connection is
 * down fail at once (no offline queue) with `StoreUnavailableError`: the replay check then fails
 * closed with 503, and the client reconnects in the background.
 */
export async function openRedis(
  url: string,
  options: { logger: Logger; trendLinkMaxBytes?: number; now?: () => number; keyPrefix?: string },
): Promise<RedisStores> {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  // One hash tag for every trend-link key, so the script's keys share a slot on a Redis Cluster too.
  const TREND_PREFIX = `${keyPrefix}{trend}:`;
  const JTI_PREFIX = `${keyPrefix}jti:`;
  const where = describeRedis(url);
  const now = options.now ?? Date.now;
  const maxBytes = options.trendLinkMaxBytes ?? REDIS_TREND_LINK_MAX_BYTES;
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    // One line per distinct failure, not one per reconnection attempt.
    if (error.message !== lastError) {
      lastError = error.message;
      options.logger.warn({ err: error }, 'Redis connection problem');
    }
  });
  redis.on('ready', () => {
    if (lastError !== '') {
      options.logger.info('Redis connection restored');
      lastError = '';
    }
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Redis at ${where} cannot be reached: ${reason}`, { cause: error });
  }

  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreUnavailableError('redis', `Redis command failed: ${reason}`, { cause: error });
    }
  };

  const replayCache: ReplayCache = {
    async checkAndRemember(jti, expiresAt) {
      const ttl = Math.max(1, expiresAt.getTime() - now());
      // Hashed: the key has a fixed length whatever the client put in `jti`.
      const key = JTI_PREFIX + createHash('sha256').update(jti).digest('base64url');
      const result = await call(() => redis.set(key, '1', 'PX', ttl, 'NX'));
      return result === 'OK';
    },
  };

  const trendLinks: TrendLinkStore = {
    async put(payload, ttlMs) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new RangeError(`ttlMs must be a positive number; got ${ttlMs}`);
      }
      const json = JSON.stringify(payload);
      if (Buffer.byteLength(json) > maxBytes) {
        throw new RangeError('trend link payload exceeds the Redis byte cap');
      }
      for (;;) {
        const id = mintTrendLinkId();
        const stored = await call(() =>
          runPut(redis, TREND_PREFIX, id, json, Math.ceil(ttlMs), now(), maxBytes),
        );
        if (stored === 1) {
          return id;
        }
      }
    },
    async get(id) {
      if (!isTrendLinkId(id)) {
        return undefined;
      }
      const json = await call(() => redis.get(`${TREND_PREFIX}link:${id}`));
      return json === null ? undefined : JSON.parse(json);
    },
  };

  return {
    replayCache,
    trendLinks,
    description: `Redis (${where})`,
    ping: async () => {
      await call(() => redis.ping());
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

async function runPut(
  redis: Redis,
  prefix: string,
  id: string,
  json: string,
  ttlMs: number,
  nowMs: number,
  maxBytes: number,
): Promise<number> {
  const result: unknown = await redis.call(
    'EVAL',
    PUT_SCRIPT,
    '1',
    prefix,
    id,
    json,
    String(ttlMs),
    String(nowMs),
    String(maxBytes),
  );
  return Number(result);
}

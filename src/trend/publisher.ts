import type { TrendLinkPublisher } from '../cds/service.js';
import type { TrendLinkStore } from '../stores/trend-link-store.js';
import type { Assessment } from '../engine/types.js';
import { takeTrendSnapshot, type TrendSnapshot } from './trend-snapshot.js';

export interface TrendLinkPublisherOptions {
  store: TrendLinkStore<TrendSnapshot>;
  /** Public origin of the service (PUBLIC_BASE_URL); a function when it is only known after listen. */
  publicBaseUrl: string | (() => string);
  ttlMs: number;
  now?: () => Date;
}

/** Path under which the trend router is mounted; the id is the only variable part of the URL. */
export const TRENDS_PATH = '/trends';

/**
 * Turns an Assessment into a capability URL: `${PUBLIC_BASE_URL}/trends/<random id>`. The URL carries
 * neither the patient id nor any token, so it is safe to appear in card JSON and in EHR audit logs.
 */
export function createTrendLinkPublisher(options: TrendLinkPublisherOptions): TrendLinkPublisher {
  const now = options.now ?? (() => new Date());
  return {
    async publish(assessment: Assessment, owner?: string): Promise<string> {
      const expiresAt = new Date(now().getTime() + options.ttlMs);
      const snapshot = takeTrendSnapshot(assessment, expiresAt);
      const id = await options.store.put(snapshot, options.ttlMs, owner);
      return `${resolveBaseUrl(options.publicBaseUrl)}${TRENDS_PATH}/${id}`;
    },
  };
}

function resolveBaseUrl(base: string | (() => string)): string {
  const value = typeof base === 'function' ? base() : base;
  return value.replace(/\/+$/, '');
}

import type { Assessment } from '../engine/types.js';
import type { Card, CdsRequest } from './schemas.js';

/**
 * What a CDS service declares in discovery.
 * @see https://cds-hooks.hl7.org/2.0/#response
 */
export interface CdsServiceDefinition {
  id: string;
  hook: string;
  title: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

/** One prefetch key's data after gathering: a resource, a Bundle, or null for "nothing there". */
export type PrefetchData = Record<string, fhir4.Resource | null>;

/** Stores a short-lived snapshot of an analysis and returns the absolute URL of the page that shows it. */
export interface TrendLinkPublisher {
  publish(assessment: Assessment): Promise<string>;
}

export interface HookInvocation {
  request: CdsRequest;
  /** Every prefetch key the service declares, already resolved from prefetch or the FHIR server. */
  data: PrefetchData;
  now: Date;
  lookbackDays: number;
  trendLinks?: TrendLinkPublisher;
}

/** A CDS service: its discovery entry plus a transport-neutral handler that returns cards. */
export interface CdsService {
  definition: CdsServiceDefinition;
  handle(invocation: HookInvocation): Promise<{ cards: Card[] }>;
}

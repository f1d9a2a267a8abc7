import type { Assessment, DataQualityNote } from '../engine/types.js';
import type { IssuedCardFacts } from '../stores/issuance-log.js';
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
  /** `owner`: the CDS client the link is made for (see `TrendLinkStore.put`). */
  publish(assessment: Assessment, owner?: string): Promise<string>;
}

export interface HookInvocation {
  request: CdsRequest;
  /** Every prefetch key the service declares, already resolved from prefetch or the FHIR server. */
  data: PrefetchData;
  now: Date;
  lookbackDays: number;
  trendLinks?: TrendLinkPublisher;
  /** Problems found while gathering (e.g. other patients' resources dropped): every card shows them. */
  dataNotes?: DataQualityNote[];
}

/**
 * Why a call answered with no card, for the debug log and `/metrics`. A closed set so that the
 * metric's labels stay bounded; `unspecified` is what a service that gives no reason is counted as.
 */
export const NO_CARD_REASONS = [
  'no-patient',
  'no-data',
  'too-few-points',
  'stable',
  'noise',
  'alp-falling',
  'aminotransferases-not-falling',
  'within-uln',
  'not-indicated',
  'unspecified',
] as const;

export type NoCardReason = (typeof NO_CARD_REASONS)[number];

export interface HookResult {
  cards: Card[];
  /** Set when `cards` is empty. */
  noCardReason?: NoCardReason;
  /** For the card issuance log: what each card (by uuid) was issued for. Never reaches the client. */
  issued?: { patientId: string; cards: IssuedCardFacts[] };
}

/** A CDS service: its discovery entry plus a transport-neutral handler that returns cards. */
export interface CdsService {
  definition: CdsServiceDefinition;
  handle(invocation: HookInvocation): Promise<HookResult>;
}

import type { RequestHandler, Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NO_CARD_REASONS } from '../cds/service.js';
import { matchCdsRoute } from './logger.js';

/** What the FHIR gateway reports after each call (the shape of `createApp`'s `onFhirCall`). */
export interface FhirCallEvent {
  durationMs: number;
  status?: number;
  outcome: string;
}

export interface MetricsOptions {
  /** Ids of the registered services; any other id in a URL is counted as "unknown". */
  serviceIds: readonly string[];
  /** Node process metrics (CPU, heap, event loop lag); off in tests that build many apps. */
  processMetrics?: boolean;
}

export interface Metrics {
  registry: Registry;
  /** Times every request and counts cards and feedback from the JSON the service answers with. */
  middleware: RequestHandler;
  /** `GET /metrics` in the Prometheus text format. */
  handler: RequestHandler;
  observeFhirCall(event: FhirCallEvent): void;
}

type RouteKind = 'discovery' | 'hook' | 'feedback' | 'other';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const INDICATORS = new Set(['info', 'warning', 'critical']);
const FEEDBACK_OUTCOMES = new Set(['accepted', 'overridden']);
const OUTCOME_LABEL = /^[a-z0-9_-]{1,32}$/i;
const NO_CARD_REASON_SET: ReadonlySet<string> = new Set(NO_CARD_REASONS);

/**
 * One registry per app (never prom-client's global), so two apps in one process, or two tests,
 * do not share counters. Label values come only from closed sets to keep cardinality bounded
 * whatever URLs a caller invents.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const known = new Set(options.serviceIds);
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
  }

  const requests = new Counter({
    name: 'cds_http_requests_total',
    help: 'HTTP requests by route kind, CDS service and status code',
    labelNames: ['route', 'service', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'cds_http_request_duration_seconds',
    help: 'HTTP request latency by route kind, CDS service and status code',
    labelNames: ['route', 'service', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const fhirDuration = new Histogram({
    name: 'cds_fhir_request_duration_seconds',
    help: 'Latency of calls to the FHIR server by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const fhirFailures = new Counter({
    name: 'cds_fhir_request_failures_total',
    help: 'FHIR calls that did not succeed, by outcome and status class',
    labelNames: ['outcome', 'status'] as const,
    registers: [registry],
  });
  const cards = new Counter({
    name: 'cds_cards_returned_total',
    help: 'Cards returned by CDS service and indicator',
    labelNames: ['service', 'indicator'] as const,
    registers: [registry],
  });
  const feedback = new Counter({
    name: 'cds_feedback_total',
    help: 'Card feedback received by CDS service and outcome',
    labelNames: ['service', 'outcome'] as const,
    registers: [registry],
  });

  const noCards = new Counter({
    name: 'cds_no_card_total',
    help: 'Hook calls answered with no card, by CDS service and reason',
    labelNames: ['service', 'reason'] as const,
    registers: [registry],
  });
  const otherPatientResources = new Counter({
    name: 'cds_other_patient_resources_dropped_total',
    help: 'Resources not about the patient in context, dropped before analysis, by CDS service',
    labelNames: ['service'] as const,
    registers: [registry],
  });

  const classify = (url: string): { route: RouteKind; service: string } => {
    const path = url.split('?')[0] ?? '';
    if (path === '/cds-services' || path === '/cds-services/') {
      return { route: 'discovery', service: '' };
    }
    const match = matchCdsRoute(path);
    if (match === undefined) {
      return { route: 'other', service: '' };
    }
    return {
      route: match.feedback ? 'feedback' : 'hook',
      service: known.has(match.service) ? match.service : 'unknown',
    };
  };

  const countBody = (
    kind: RouteKind,
    service: string,
    res: Response,
    body: unknown,
    reqBody: unknown,
  ) => {
    if (res.statusCode !== 200 || service === 'unknown') {
      return;
    }
    if (kind === 'hook') {
      const returned = arrayField(body, 'cards');
      for (const card of returned) {
        const indicator = stringField(card, 'indicator');
        cards.inc({ service, indicator: INDICATORS.has(indicator) ? indicator : 'other' });
      }
      if (returned.length === 0) {
        const reason = stringField(res.locals, 'noCardReason');
        noCards.inc({ service, reason: NO_CARD_REASON_SET.has(reason) ? reason : 'unspecified' });
      }
    } else if (kind === 'feedback') {
      for (const item of arrayField(reqBody, 'feedback')) {
        const outcome = stringField(item, 'outcome');
        feedback.inc({ service, outcome: FEEDBACK_OUTCOMES.has(outcome) ? outcome : 'other' });
      }
    }
  };

  const middleware: RequestHandler = (req, res, next) => {
    const { route, service } = classify(req.originalUrl);
    const stopTimer = requestDuration.startTimer();
    const json = res.json.bind(res);
    // Counting from the answer itself keeps the router free of metrics code.
    res.json = (body: unknown) => {
      countBody(route, service, res, body, req.body);
      return json(body);
    };
    res.once('finish', () => {
      const dropped: unknown = res.locals.otherPatientResources;
      if (route === 'hook' && typeof dropped === 'number' && dropped > 0) {
        otherPatientResources.inc({ service }, dropped);
      }
      const labels = { route, service, status: String(res.statusCode) };
      stopTimer(labels);
      requests.inc(labels);
    });
    next();
  };

  const handler: RequestHandler = (_req, res, next) => {
    registry.metrics().then((text) => {
      res.type(registry.contentType).send(text);
    }, next);
  };

  return {
    registry,
    middleware,
    handler,
    observeFhirCall(event) {
      const outcome = OUTCOME_LABEL.test(event.outcome) ? event.outcome : 'other';
      fhirDuration.observe({ outcome }, event.durationMs / 1000);
      if (outcome !== 'ok') {
        const status = event.status === undefined ? 'none' : `${Math.floor(event.status / 100)}xx`;
        fhirFailures.inc({ outcome, status });
      }
    },
  };
}

function arrayField(value: unknown, key: string): unknown[] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const field: unknown = Reflect.get(value, key);
  return Array.isArray(field) ? field : [];
}

function stringField(value: unknown, key: string): string {
  if (typeof value !== 'object' || value === null) {
    return '';
  }
  const field: unknown = Reflect.get(value, key);
  return typeof field === 'string' ? field : '';
}

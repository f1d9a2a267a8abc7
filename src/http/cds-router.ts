import express, { type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { findInvalidTokens } from '../cds/prefetch.js';
import {
  CdsRequestSchema,
  CdsResponseSchema,
  FeedbackSchema,
  HookContextSchemas,
  stripEmpty,
  stripResponse,
  type CdsRequest,
  type CdsResponse,
} from '../cds/schemas.js';
import type { CdsService, HookResult, TrendLinkPublisher } from '../cds/service.js';
import type { DataQualityNote } from '../engine/types.js';
import type { FhirCallEvent, FhirCallStats, FhirGatewayFactory } from '../fhir/gateway.js';
import { gatherPrefetch } from '../fhir/gather.js';
import { getRequestLogger } from '../observability/logger.js';
import type { FeedbackStore } from '../stores/feedback-store.js';
import { CdsError, formatIssuePath, invalidRequestFrom } from './errors.js';

export interface CdsRouterDeps {
  services: readonly CdsService[];
  feedbackStore: FeedbackStore;
  gatewayFactory: FhirGatewayFactory;
  now: () => Date;
  maxBody: string;
  fhirTimeoutMs: number;
  fhirMaxPages: number;
  hookDeadlineMs: number;
  lookbackDays: number;
  trendLinks?: TrendLinkPublisher;
  /** Runs before hook and feedback handlers (not discovery), e.g. CDS client JWT verification. */
  authenticate?: RequestHandler;
  onFhirCall?: (event: FhirCallEvent) => void;
  /** A service produced a response that fails the CDS Hooks schema: a bug worth an error log. */
  onInvalidResponse?: (serviceId: string, problems: string[]) => void;
  retryDelayMs?: () => number;
  /** The root logger: consulted so that a debug line costs nothing when debug is off. */
  logger?: Logger;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * The HTTP face of CDS Hooks: discovery, service calls and feedback. The only code that touches
 * `req`/`res` for CDS traffic; services stay transport-neutral.
 * @see https://cds-hooks.hl7.org/2.0/#discovery
 */
export function createCdsRouter(deps: CdsRouterDeps): express.Router {
  assertServicesAreSound(deps.services);
  const byId = new Map(deps.services.map((service) => [service.definition.id, service]));
  const discovery = {
    services: deps.services.map((service) => stripEmpty({ ...service.definition })),
  };
  const authenticate: RequestHandler = deps.authenticate ?? ((_req, _res, next) => next());
  const parseJson = express.json({ limit: deps.maxBody, type: JSON_TYPES });

  const findService: RequestHandler = (req, res, next) => {
    const raw: unknown = req.params.id;
    const id = typeof raw === 'string' ? raw : '';
    const service = byId.get(id);
    if (service === undefined) {
      throw new CdsError('UNKNOWN_SERVICE', `No CDS service with id '${id.slice(0, 100)}'`);
    }
    res.locals.cdsService = service;
    next();
  };

  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is(JSON_TYPES)) {
      throw new CdsError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    }
    next();
  };

  const router = express.Router();

  router.get('/cds-services', (_req, res) => {
    res.json(discovery);
  });

  // Hook and feedback calls are admitted alike: a known service, an authenticated client, a JSON body.
  const admitCall = [findService, authenticate, requireJson, parseJson];

  router.post('/cds-services/:id', ...admitCall, async (req, res) => {
    const service = serviceOf(res);
    const request = parseRequest(req.body, service);
    res.locals.hookInstance = request.hookInstance;
    const stats: FhirCallStats = { calls: 0, totalMs: 0 };
    res.locals.fhirStats = stats;
    const { data, otherPatientResources } = await gatherPrefetch(
      service,
      request,
      deps.gatewayFactory,
      {
        timeoutMs: deps.fhirTimeoutMs,
        maxPages: deps.fhirMaxPages,
        deadlineMs: deps.hookDeadlineMs,
        onFhirCall: (event) => {
          stats.calls += 1;
          stats.totalMs += event.durationMs;
          deps.onFhirCall?.(event);
        },
        ...(deps.retryDelayMs === undefined ? {} : { retryDelayMs: deps.retryDelayMs }),
      },
    );
    const dataNotes: DataQualityNote[] = [];
    if (otherPatientResources > 0) {
      // Counted (res.locals feeds /metrics) and logged without ids: the count is the signal.
      res.locals.otherPatientResources = otherPatientResources;
      getRequestLogger(req)?.warn(
        { service: service.definition.id, otherPatientResources },
        'resources of another patient dropped before analysis',
      );
      dataNotes.push(otherPatientNote(otherPatientResources));
    }
    const result: HookResult = await service.handle({
      request,
      data,
      now: deps.now(),
      lookbackDays: deps.lookbackDays,
      dataNotes,
      ...(deps.trendLinks === undefined ? {} : { trendLinks: deps.trendLinks }),
    });
    if (result.cards.length === 0) {
      const noCardReason = result.noCardReason ?? 'unspecified';
      res.locals.noCardReason = noCardReason;
      // Most calls end without a card: skip building the request's child logger unless it will write.
      if (deps.logger?.isLevelEnabled('debug') !== false) {
        getRequestLogger(req)?.debug({ service: service.definition.id, noCardReason }, 'no card');
      }
    }
    res.json(checkedResponse(service.definition.id, result, deps.onInvalidResponse));
    // Under load a written response can wait several turns of the event loop for 'finish', and
    // its request with it; dropping the parsed prefetch now keeps dozens of those bundles from
    // surviving young-generation collections into the old generation.
    req.body = undefined;
  });

  router.post('/cds-services/:id/feedback', ...admitCall, async (req, res) => {
    const service = serviceOf(res);
    const parsed = FeedbackSchema.safeParse(req.body);
    if (!parsed.success) {
      throw invalidRequestFrom(parsed.error, '', 'feedback body');
    }
    await deps.feedbackStore.save(service.definition.id, parsed.data.feedback, deps.now());
    // The spec defines no response body; a count lets the client see what was recorded.
    res.status(200).json({ received: parsed.data.feedback.length });
  });

  return router;
}

function otherPatientNote(count: number): DataQualityNote {
  return {
    code: 'other-patient-data',
    message:
      `${count} resource(s) not about this patient (another patient's, or no patient's) were ` +
      'left out of the analysis: check the EHR feed.',
  };
}

function serviceOf(res: Response): CdsService {
  const service: unknown = res.locals.cdsService;
  if (!isCdsService(service)) {
    throw new Error('CDS service missing from res.locals');
  }
  return service;
}

function isCdsService(value: unknown): value is CdsService {
  return (
    typeof value === 'object' &&
    value !== null &&
    'definition' in value &&
    'handle' in value &&
    typeof value.handle === 'function'
  );
}

/** Body → CdsRequest, checking the hook name and the hook's own context fields. */
function parseRequest(body: unknown, service: CdsService): CdsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CdsError('INVALID_REQUEST', 'Request body must be a JSON object');
  }
  const parsed = CdsRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw invalidRequestFrom(parsed.error);
  }
  const request = parsed.data;
  if (request.hook !== service.definition.hook) {
    throw new CdsError(
      'HOOK_MISMATCH',
      `hook '${request.hook.slice(0, 100)}' does not match service '${service.definition.id}', which answers '${service.definition.hook}'`,
      { issues: [] },
    );
  }
  const contextSchema = HookContextSchemas[request.hook];
  if (contextSchema !== undefined) {
    const context = contextSchema.safeParse(request.context);
    if (!context.success) {
      throw invalidRequestFrom(context.error, 'context');
    }
  }
  return request;
}

/**
 * Strips empty optionals, then proves the result is a valid CDS Hooks response. One stripping pass
 * suffices: the schema has no defaults or transforms, so what it returns has no empties either.
 */
function checkedResponse(
  serviceId: string,
  result: unknown,
  onInvalid: CdsRouterDeps['onInvalidResponse'],
): CdsResponse {
  const parsed = CdsResponseSchema.safeParse(stripResponse(result));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${formatIssuePath(issue.path) || '(response)'}: ${issue.message}`,
    );
    onInvalid?.(serviceId, problems);
    throw new CdsError('INVALID_RESPONSE', `Service '${serviceId}' built an invalid response`);
  }
  return parsed.data;
}

/** Fails at start-up, not at the first call, when a service definition cannot work. */
function assertServicesAreSound(services: readonly CdsService[]): void {
  const seen = new Set<string>();
  for (const { definition } of services) {
    if (!/^[A-Za-z0-9._~-]+$/.test(definition.id)) {
      throw new Error(`CDS service id '${definition.id}' is not URL-safe`);
    }
    if (seen.has(definition.id)) {
      throw new Error(`CDS service id '${definition.id}' is registered twice`);
    }
    seen.add(definition.id);
    for (const [key, template] of Object.entries(definition.prefetch ?? {})) {
      const invalid = findInvalidTokens(template);
      if (invalid.length > 0) {
        throw new Error(
          `CDS service '${definition.id}' prefetch '${key}' uses unknown token(s): ${invalid.join(', ')}`,
        );
      }
    }
  }
}

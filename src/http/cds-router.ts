import express, { type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { findInvalidTokens } from '../cds/prefetch.js';
import { checkedResponse, invokeService, parseHookRequest } from '../cds/hook-call.js';
import { FeedbackSchema, stripEmpty } from '../cds/schemas.js';
import type { CdsService, HookResult, TrendLinkPublisher } from '../cds/service.js';
import type { FhirCallEvent, FhirCallStats, FhirGatewayFactory } from '../fhir/gateway.js';
import { getRequestLogger } from '../observability/logger.js';
import type { FeedbackStore } from '../stores/feedback-store.js';
import type { CardIssuanceLog } from '../stores/issuance-log.js';
import { ANONYMOUS_OWNER } from '../stores/trend-link-store.js';
import { CdsError, invalidRequestFrom } from './errors.js';
import type { FhirServerPolicy, FhirServerRequester } from './fhir-server-policy.js';

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
  /** Which `fhirServer` values may be fetched from; anything when absent. */
  fhirServerPolicy?: FhirServerPolicy;
  /** Largest FHIR response body read per request. */
  fhirMaxResponseBytes?: number;
  /** The root logger: consulted so that a debug line costs nothing when debug is off; used when the request carries no request logger. */
  logger?: Logger;
  /** Where issued cards are recorded (by uuid) so feedback can be traced and counted. */
  issuanceLog?: CardIssuanceLog;
  /** The issuance log could not be written; the hook answer went out regardless. */
  onIssuanceLogFailure?: (error: unknown) => void;
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
  const maxBodyBytes = sizeInBytes(deps.maxBody);
  // Requests whose raw body may decode to a lone UTF-16 surrogate; only those are walked after parsing.
  const surrogateSuspects = new WeakSet<object>();
  const parseJson = express.json({
    limit: deps.maxBody,
    type: JSON_TYPES,
    verify: (req, _res, raw) => {
      const charset = /charset=([^;\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
      if (mayEscapeSurrogate(raw) || (charset !== undefined && !/^utf-?8$/i.test(charset))) {
        surrogateSuspects.add(req);
      }
    },
  });

  // body-parser would read (and discard) an oversized body to its end before answering: refuse on
  // the declared length instead, and close the connection rather than drain it.
  const refuseDeclaredOversize: RequestHandler = (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? '');
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      res.set('Connection', 'close');
      throw new CdsError(
        'PAYLOAD_TOO_LARGE',
        `Request body is larger than the limit of ${maxBodyBytes} bytes`,
      );
    }
    next();
  };

  // JSON.parse turns an escaped lone surrogate (\ud800) into a string that later encoders
  // (encodeURIComponent, UTF-8 writers) reject: it is a bad request, not a server fault.
  const refuseLoneSurrogates: RequestHandler = (req, _res, next) => {
    if (surrogateSuspects.has(req)) {
      const where = findLoneSurrogate(req.body as unknown, '');
      if (where !== undefined) {
        throw new CdsError(
          'INVALID_REQUEST',
          `Request body holds a lone UTF-16 surrogate${where === '' ? '' : ` at ${where}`}`,
        );
      }
    }
    next();
  };

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
  const admitCall = [
    findService,
    refuseDeclaredOversize,
    authenticate,
    requireJson,
    parseJson,
    refuseLoneSurrogates,
  ];

  router.post('/cds-services/:id', ...admitCall, async (req, res) => {
    const service = serviceOf(res);
    const request = parseHookRequest(req.body, service);
    res.locals.hookInstance = request.hookInstance;
    const stats: FhirCallStats = { calls: 0, totalMs: 0 };
    res.locals.fhirStats = stats;
    const requester = requesterOf(res);
    // The policy runs when a gateway is about to be built, i.e. only if something must be fetched,
    // and before any request is made.
    const gatewayFactory: FhirGatewayFactory = (options) => {
      const refusal = deps.fhirServerPolicy?.(options.baseUrl, requester);
      if (refusal !== undefined) {
        getRequestLogger(req, deps.logger)?.info(
          { fhirServerRefused: refusal },
          'fhirServer refused',
        );
        throw new CdsError('INVALID_REQUEST', refusal, {
          issues: [{ path: 'fhirServer', message: refusal }],
        });
      }
      return deps.gatewayFactory({
        ...options,
        ...(deps.fhirMaxResponseBytes === undefined
          ? {}
          : { maxResponseBytes: deps.fhirMaxResponseBytes }),
      });
    };
    const now = deps.now();
    const trendLinks = linksFor(deps.trendLinks, res);
    const { issued, ...result }: HookResult = await invokeService(service, request, {
      gatewayFactory,
      gather: {
        timeoutMs: deps.fhirTimeoutMs,
        maxPages: deps.fhirMaxPages,
        deadlineMs: deps.hookDeadlineMs,
        onFhirCall: (event) => {
          stats.calls += 1;
          stats.totalMs += event.durationMs;
          if (event.outcome !== 'ok') {
            // Transport detail (ECONNREFUSED, parser errors) is for operators only; the 412 omits it.
            getRequestLogger(req, deps.logger)?.warn(
              { fhirCall: { outcome: event.outcome, status: event.status, detail: event.detail } },
              'FHIR call failed',
            );
          }
          deps.onFhirCall?.(event);
        },
        ...(deps.retryDelayMs === undefined ? {} : { retryDelayMs: deps.retryDelayMs }),
      },
      now,
      lookbackDays: deps.lookbackDays,
      ...(trendLinks === undefined ? {} : { trendLinks }),
      onOtherPatientResources: (otherPatientResources) => {
        // Counted (res.locals feeds /metrics) and logged without ids: the count is the signal.
        res.locals.otherPatientResources = otherPatientResources;
        getRequestLogger(req)?.warn(
          { service: service.definition.id, otherPatientResources },
          'resources of another patient dropped before analysis',
        );
      },
    });
    if (result.cards.length === 0) {
      const noCardReason = result.noCardReason ?? 'unspecified';
      res.locals.noCardReason = noCardReason;
      // Most calls end without a card: skip building the request's child logger unless it will write.
      if (deps.logger?.isLevelEnabled('debug') !== false) {
        getRequestLogger(req)?.debug({ service: service.definition.id, noCardReason }, 'no card');
      }
    }
    const response = checkedResponse(service.definition.id, result, deps.onInvalidResponse);
    if (issued !== undefined && issued.cards.length > 0 && deps.issuanceLog !== undefined) {
      // Written behind the answer: a database that hangs must not hold the clinician's cards back.
      void recordIssued(deps, service.definition.id, issued, now);
    }
    res.json(response);
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
    // A store that is down throws StoreUnavailableError: the client gets 503 with Retry-After.
    await deps.feedbackStore.save(service.definition.id, parsed.data.feedback, deps.now());
    // The spec defines no response body; a count lets the client see what was recorded.
    res.status(200).json({ received: parsed.data.feedback.length });
  });

  return router;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
};

/** `1mb`, `512kb`, `65536` → bytes, with the binary units body-parser uses for the same setting. */
export function sizeInBytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(size.trim());
  if (match === null) {
    throw new Error(`not a size: '${size}'`);
  }
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1));
}

/** Whether the raw JSON text holds a `\uD800`–`\uDFFF` escape (cheap pre-check for the walk). */
function mayEscapeSurrogate(raw: Buffer): boolean {
  for (let at = raw.indexOf('\\u'); at !== -1; at = raw.indexOf('\\u', at + 2)) {
    const first = raw[at + 2];
    const second = raw[at + 3];
    if (
      (first === 0x64 || first === 0x44) &&
      second !== undefined &&
      /[89a-f]/i.test(String.fromCharCode(second))
    ) {
      return true;
    }
  }
  return false;
}

/** Dotted path of the first key or string value holding a lone surrogate, or undefined. */
function findLoneSurrogate(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    return /\p{Cs}/u.test(value) ? path : undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findLoneSurrogate(item, `${path}[${index}]`);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = path === '' ? key : `${path}.${key}`;
    if (/\p{Cs}/u.test(key)) {
      return here;
    }
    const found = findLoneSurrogate(item, here);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** The authenticated client, or undefined in open mode. */
function requesterOf(res: Response): FhirServerRequester | undefined {
  const client: unknown = res.locals.cdsClient;
  if (typeof client !== 'object' || client === null) {
    return undefined;
  }
  const servers: unknown = Reflect.get(client, 'fhirServers');
  return Array.isArray(servers)
    ? { fhirServers: servers.filter((s): s is string => typeof s === 'string') }
    : {};
}

/** Links are owned by the verified client (its issuer), or by `anonymous` in open mode. */
function linksFor(
  publisher: TrendLinkPublisher | undefined,
  res: Response,
): TrendLinkPublisher | undefined {
  if (publisher === undefined) {
    return undefined;
  }
  const client: unknown = res.locals.cdsClient;
  const iss =
    typeof client === 'object' && client !== null && 'iss' in client ? client.iss : undefined;
  const owner = typeof iss === 'string' ? `client:${iss}` : ANONYMOUS_OWNER;
  return { publish: (assessment) => publisher.publish(assessment, owner) };
}

/** The issuance log is bookkeeping: a failure is counted and logged, the cards still go out. */
async function recordIssued(
  deps: CdsRouterDeps,
  serviceId: string,
  issued: NonNullable<HookResult['issued']>,
  issuedAt: Date,
): Promise<void> {
  const log = deps.issuanceLog;
  if (log === undefined) {
    return;
  }
  try {
    const patientHash = log.patientHash(issued.patientId);
    await log.record(issued.cards.map((card) => ({ ...card, serviceId, patientHash, issuedAt })));
  } catch (error) {
    deps.onIssuanceLogFailure?.(error);
  }
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

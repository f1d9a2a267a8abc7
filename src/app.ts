import express, { type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { CdsService, TrendLinkPublisher } from './cds/service.js';
import type { Config } from './config.js';
import { createFhirGateway, type FhirCallEvent, type FhirGatewayFactory } from './fhir/gateway.js';
import { createCdsRouter } from './http/cds-router.js';
import { createCors } from './http/cors.js';
import { createErrorHandler, notFoundHandler } from './http/errors.js';
import { createFhirServerPolicy } from './http/fhir-server-policy.js';
import type { FeedbackStore } from './stores/feedback-store.js';
import type { CardIssuanceLog } from './stores/issuance-log.js';
import { SERVICE_VERSION } from './version.js';

/** Everything the app needs, passed in so tests and `main.ts` can wire different parts. */
export interface AppDeps {
  config: Config;
  services: readonly CdsService[];
  feedbackStore: FeedbackStore;
  /** Clock for hook invocations and feedback timestamps. */
  now?: () => Date;
  /** FHIR access for prefetch keys the client did not send; fhir-kit-client by default. */
  gatewayFactory?: FhirGatewayFactory;
  /** Verifies the CDS client on hook and feedback calls (discovery stays open). */
  authenticate?: RequestHandler;
  trendLinks?: TrendLinkPublisher;
  /** Run first, for every request (request ids and logs, metrics). */
  middleware?: RequestHandler[];
  /** Extra mounts, e.g. the embedded FHIR server under `/fhir` or demo pages. */
  routers?: { path: string; router: RequestHandler }[];
  logger?: Logger;
  onFhirCall?: (event: FhirCallEvent) => void;
  /** Extra fields for `GET /healthz`. */
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Wait before retrying a failed FHIR call; tests make it 0. */
  fhirRetryDelayMs?: () => number;
  /** Card issuance log; hook calls record what they issued when present. */
  issuanceLog?: CardIssuanceLog;
  onIssuanceLogFailure?: (error: unknown) => void;
  /** State of each configured shared store, for `GET /readyz`; empty when all state is in memory. */
  storeHealth?: () => Promise<Record<string, 'ok' | 'unavailable'>>;
}

export function createApp(deps: AppDeps): express.Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Hook answers are per-call POST responses: hashing every body for an ETag that no client
  // revalidates is wasted work. Static assets keep theirs (serve-static sets its own).
  app.set('etag', false);

  for (const middleware of deps.middleware ?? []) {
    app.use(middleware);
  }

  // Liveness: the process answers. It never looks at the stores, so a database outage does not
  // get every replica restarted at once.
  app.get('/healthz', async (_req, res) => {
    const extra = (await deps.health?.()) ?? {};
    res.set('Cache-Control', 'no-store').json({
      status: 'ok',
      version: SERVICE_VERSION,
      services: deps.services.length,
      ...extra,
    });
  });

  // Readiness, for the load balancer: 200 only while every configured store answers.
  app.get('/readyz', async (_req, res) => {
    const stores = (await deps.storeHealth?.()) ?? {};
    const ready = Object.values(stores).every((state) => state === 'ok');
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'not-ready', version: SERVICE_VERSION, stores });
  });

  // Security headers come with the operations middleware (`deps.middleware`) for every route; a
  // second helmet pass here only repeated them. CORS is the JSON API's own.
  app.use('/cds-services', createCors());
  app.use(
    createCdsRouter({
      services: deps.services,
      feedbackStore: deps.feedbackStore,
      gatewayFactory: deps.gatewayFactory ?? createFhirGateway,
      now: deps.now ?? (() => new Date()),
      maxBody: config.MAX_BODY,
      fhirTimeoutMs: config.FHIR_TIMEOUT_MS,
      fhirMaxPages: config.FHIR_MAX_PAGES,
      hookDeadlineMs: config.HOOK_DEADLINE_MS,
      lookbackDays: config.LOOKBACK_DAYS,
      ...(deps.trendLinks === undefined ? {} : { trendLinks: deps.trendLinks }),
      ...(deps.authenticate === undefined ? {} : { authenticate: deps.authenticate }),
      ...(deps.onFhirCall === undefined ? {} : { onFhirCall: deps.onFhirCall }),
      ...(deps.fhirRetryDelayMs === undefined ? {} : { retryDelayMs: deps.fhirRetryDelayMs }),
      fhirServerPolicy: createFhirServerPolicy({
        allowInsecure: config.ALLOW_INSECURE_FHIR,
        ...(config.FHIR_SERVER_ALLOWLIST === undefined
          ? {}
          : { allowlist: config.FHIR_SERVER_ALLOWLIST }),
        ...(config.EMBEDDED_FHIR ? { embeddedOrigin: new URL(config.PUBLIC_BASE_URL).origin } : {}),
      }),
      fhirMaxResponseBytes: config.FHIR_MAX_RESPONSE_BYTES,
      ...(deps.logger === undefined ? {} : { logger: deps.logger }),
      ...(deps.issuanceLog === undefined ? {} : { issuanceLog: deps.issuanceLog }),
      ...(deps.onIssuanceLogFailure === undefined
        ? {}
        : { onIssuanceLogFailure: deps.onIssuanceLogFailure }),
      onInvalidResponse: (serviceId, problems) => {
        deps.logger?.error(
          { service: serviceId, problems },
          'service built an invalid CDS response',
        );
      },
    }),
  );

  for (const { path, router } of deps.routers ?? []) {
    app.use(path, router);
  }

  app.use(notFoundHandler);
  app.use(
    createErrorHandler({
      onInternalError: (error, requestId) => {
        deps.logger?.error({ err: error, requestId }, 'request failed with an internal error');
      },
    }),
  );
  return app;
}

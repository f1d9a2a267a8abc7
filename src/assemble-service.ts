import type { Express, RequestHandler } from 'express';
import type { DestinationStream, Logger } from 'pino';
import { Counter } from 'prom-client';
import { services as defaultServices } from '../hooks/index.js';
import type { CdsService } from './cds/service.js';
import { createApp, type AppDeps } from './app.js';
import type { Config } from './config.js';
import type { FhirCallEvent, FhirGatewayFactory } from './fhir/gateway.js';
import { createAdminRouter } from './http/admin-router.js';
import { createLogger } from './observability/logger.js';
import { createOperations } from './observability/operations.js';
import type { Metrics } from './observability/metrics.js';
import { openStores, type ServiceStores } from './stores/open-stores.js';
import { createUiMounts } from './trend/ui-mounts.js';

export interface AssembleServiceOptions {
  /** Where log lines go; stdout when absent. */
  logDestination?: DestinationStream;
  /** Node process metrics on `/metrics`; on unless switched off. */
  processMetrics?: boolean;
  /** Clock for hook invocations and feedback timestamps; the wall clock when absent. */
  now?: () => Date;
  /** The CDS services to serve; those of `hooks/index.ts` when absent. */
  services?: readonly CdsService[];
  /** FHIR access for prefetch keys the client did not send; fhir-kit-client when absent. */
  gatewayFactory?: FhirGatewayFactory;
  /** Wait before retrying a failed FHIR call; tests make it 0. */
  fhirRetryDelayMs?: () => number;
  /** Replace single stores; the rest are chosen from the configuration as in production. */
  stores?: Partial<ServiceStores>;
  /** Sees every FHIR call besides the metrics. */
  onFhirCall?: (event: FhirCallEvent) => void;
  /** Replaces CDS client authentication (tests of the protocol layer). */
  authenticate?: RequestHandler;
  /** Runs after the operations middleware, before the routes. */
  middleware?: RequestHandler[];
}

export interface AssembledService {
  app: Express;
  logger: Logger;
  metrics: Metrics;
  stores: ServiceStores;
  /** Start-up lines for the console. */
  banner: string[];
  /** Closes the connections to shared stores. */
  close: () => Promise<void>;
}

/**
 * The whole service as it runs in production: logs, metrics, security headers, client
 * authentication, state stores, the embedded FHIR server when configured, trend pages and their
 * link publisher, admin routes. The entry point, the tests and the benchmarks all build it here,
 * so none of them can leave a part out.
 */
export async function assembleService(
  config: Config,
  options: AssembleServiceOptions = {},
): Promise<AssembledService> {
  const services = options.services ?? defaultServices;
  const serviceIds = services.map((s) => s.definition.id);
  // State first: an unreachable store stops start-up before anything else is built.
  const opened = await openStores(config, {
    logger: createLogger({
      level: config.LOG_LEVEL,
      ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    }),
    ...(options.stores === undefined ? {} : { overrides: options.stores }),
  });
  const { stores } = opened;

  // Logs, metrics, security headers and CDS client authentication (open when no clients file).
  const ops = createOperations(config, {
    serviceIds,
    replayCache: stores.replayCache,
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const routers: NonNullable<AppDeps['routers']> = [...ops.deps.routers];
  const banner: string[] = [...ops.banner, ...opened.banner];

  // ---- Embedded FHIR server (EMBEDDED_FHIR=true) ----------------------------------------------
  // Loaded with a dynamic import() so its definitions are only read when it is switched on.
  if (config.EMBEDDED_FHIR) {
    const startedAt = performance.now();
    const fhirServer = await import('./fhir-server/index.js');
    const fhirBaseUrl = `${config.PUBLIC_BASE_URL}/fhir`;
    const embedded = await fhirServer.createEmbeddedFhirServer({
      baseUrl: fhirBaseUrl,
      now: new Date(),
      readOnly: config.EMBEDDED_FHIR_READONLY,
      maxResources: config.EMBEDDED_FHIR_MAX_RESOURCES,
    });
    routers.push({ path: '/fhir', router: embedded.handler });
    banner.push(
      ...fhirServer.describeEmbeddedFhirServer({
        serviceBaseUrl: config.PUBLIC_BASE_URL,
        fhirBaseUrl,
        serviceId: services[0]?.definition.id ?? 'liver-trends',
        demoPatients: embedded.demoPatients,
        startupMs: performance.now() - startedAt,
      }),
    );
  }
  // ---- end of embedded FHIR server -------------------------------------------------------------

  // Trend pages linked from cards, their bundled assets, and the demo EHR at / with the demo data.
  const ui = createUiMounts({
    publicBaseUrl: config.PUBLIC_BASE_URL,
    trendLinkTtlSeconds: config.TREND_LINK_TTL_SECONDS,
    demo: config.EMBEDDED_FHIR,
    store: stores.trendLinks,
  });
  routers.push(...ui.routers);
  banner.push(...ui.banner(config.PUBLIC_BASE_URL));

  if (config.ADMIN_TOKEN === undefined) {
    banner.push('Admin routes (/admin/feedback): off; set ADMIN_TOKEN to read feedback');
  } else {
    routers.push({
      path: '/admin',
      router: createAdminRouter({
        token: config.ADMIN_TOKEN,
        serviceIds,
        feedbackStore: stores.feedback,
        issuanceLog: stores.issuanceLog,
      }),
    });
    banner.push('Admin routes: /admin/feedback/summary and /admin/feedback (Bearer ADMIN_TOKEN)');
  }

  const issuanceSkipped = new Counter({
    name: 'cds_issuance_log_skipped_total',
    help: 'Issued cards that could not be written to the card issuance log (store unavailable)',
    registers: [ops.metrics.registry],
  });

  const app = createApp({
    config,
    services,
    feedbackStore: stores.feedback,
    issuanceLog: stores.issuanceLog,
    onIssuanceLogFailure: (error) => {
      issuanceSkipped.inc();
      ops.logger.warn({ err: error }, 'card issuance log write skipped');
    },
    storeHealth: opened.health,
    ...ops.deps,
    middleware: [...ops.deps.middleware, ...(options.middleware ?? [])],
    onFhirCall: (event) => {
      ops.deps.onFhirCall(event);
      options.onFhirCall?.(event);
    },
    ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    routers,
    trendLinks: ui.trendLinks,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.gatewayFactory === undefined ? {} : { gatewayFactory: options.gatewayFactory }),
    ...(options.fhirRetryDelayMs === undefined
      ? {}
      : { fhirRetryDelayMs: options.fhirRetryDelayMs }),
  });
  return {
    app,
    logger: ops.logger,
    metrics: ops.metrics,
    stores,
    banner,
    close: opened.close,
  };
}

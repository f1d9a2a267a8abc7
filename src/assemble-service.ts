import type { Express } from 'express';
import type { DestinationStream, Logger } from 'pino';
import { services as defaultServices } from '../hooks/index.js';
import type { CdsService } from './cds/service.js';
import { createApp, type AppDeps } from './app.js';
import type { Config } from './config.js';
import { createOperations } from './observability/operations.js';
import { InMemoryFeedbackStore } from './stores/feedback-store.js';
import { createUiMounts } from './trend/ui-mounts.js';

export interface AssembleServiceOptions {
  /** Where log lines go; stdout when absent. */
  logDestination?: DestinationStream;
  /** Node process metrics on `/metrics`; on unless switched off. */
  processMetrics?: boolean;
  /** Clock for hook invocations; the wall clock when absent. */
  now?: () => Date;
  /** The CDS services to serve; those of `hooks/index.ts` when absent. */
  services?: readonly CdsService[];
}

export interface AssembledService {
  app: Express;
  logger: Logger;
  /** Start-up lines for the console. */
  banner: string[];
}

/**
 * The whole service as it runs in production: logs, metrics, security headers, client
 * authentication, the embedded FHIR server when configured, trend pages and their link publisher.
 * The entry point and the benchmarks both build it here, so a benchmark cannot leave a part out.
 */
export async function assembleService(
  config: Config,
  options: AssembleServiceOptions = {},
): Promise<AssembledService> {
  const services = options.services ?? defaultServices;
  // Logs, metrics, security headers and CDS client authentication (open when no clients file).
  const ops = createOperations(config, {
    serviceIds: services.map((s) => s.definition.id),
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const routers: NonNullable<AppDeps['routers']> = [...ops.deps.routers];
  const banner: string[] = [...ops.banner];

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
  });
  routers.push(...ui.routers);
  banner.push(...ui.banner(config.PUBLIC_BASE_URL));

  const app = createApp({
    config,
    services,
    feedbackStore: new InMemoryFeedbackStore(),
    ...ops.deps,
    routers,
    trendLinks: ui.trendLinks,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { app, logger: ops.logger, banner };
}

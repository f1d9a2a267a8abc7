import type { Server } from 'node:http';
import { services } from '../hooks/index.js';
import { createApp, type AppDeps } from './app.js';
import { loadConfig, type Config } from './config.js';
import { createShutdown } from './http/shutdown.js';
import { createOperations } from './observability/operations.js';
import { InMemoryFeedbackStore } from './stores/feedback-store.js';
import { createUiMounts } from './trend/ui-mounts.js';

/*
 * Process entry point: configuration → dependencies → HTTP server. Nothing here is needed by tests,
 * which build the app through createApp(deps) directly.
 */

function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    process.stderr.write(
      `Configuration error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Logs, metrics, security headers and CDS client authentication (open when no clients file).
  const ops = createOperations(config, { serviceIds: services.map((s) => s.definition.id) });
  const { logger } = ops;
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
  });

  const server: Server = app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  const lines = [
    `Hepatic Trends CDS listening on ${config.HOST}:${port}`,
    `CDS Hooks discovery: ${config.PUBLIC_BASE_URL}/cds-services`,
    ...banner,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  // Drain in-flight requests on SIGTERM/SIGINT; cut what is left after 10 s.
  const stop = createShutdown(server, { graceMs: 10_000, logger });
  const shutdown = (signal: NodeJS.Signals) => {
    void stop(signal).then((result) => process.exit(result === 'graceful' ? 0 : 1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

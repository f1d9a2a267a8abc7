import type { RequestHandler } from 'express';
import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config.js';
import { createClientAuthenticator, loadCdsClients } from '../http/client-auth.js';
import { createSecurityHeaders } from '../http/security-headers.js';
import { createMemoryReplayCache } from '../stores/replay-cache.js';
import type { ReplayCache } from '../stores/replay-cache.js';
import { createHttpLogger, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import type { FhirCallEvent, Metrics } from './metrics.js';

export type AuthMode = 'open' | 'jwt';

export interface OperationsOptions {
  serviceIds: readonly string[];
  /** Log destination; stdout when absent. */
  destination?: DestinationStream;
  processMetrics?: boolean;
  replayCache?: ReplayCache;
  now?: () => Date;
}

/** The pieces `createApp` takes for logging, metrics, headers and client authentication. */
export interface OperationsDeps {
  logger: Logger;
  middleware: RequestHandler[];
  routers: { path: string; router: RequestHandler }[];
  authenticate?: RequestHandler;
  health: () => Record<string, unknown>;
  onFhirCall: (event: FhirCallEvent) => void;
}

export interface Operations {
  deps: OperationsDeps;
  logger: Logger;
  metrics: Metrics;
  authMode: AuthMode;
  /** Start-up lines for the console banner. */
  banner: string[];
}

const OPEN_MODE_WARNING =
  'CDS_CLIENTS_FILE is not set: hook and feedback endpoints accept calls from ANYONE. ' +
  'Use this only on a trusted machine; set CDS_CLIENTS_FILE to require signed JWTs.';

/**
 * Builds the operational layer from configuration. Throws (one line) when `CDS_CLIENTS_FILE` is
 * set but unusable, so a misconfigured service never starts open by accident.
 */
export function createOperations(config: Config, options: OperationsOptions): Operations {
  const logger = createLogger({
    level: config.LOG_LEVEL,
    ...(options.destination === undefined ? {} : { destination: options.destination }),
  });
  const metrics = createMetrics({
    serviceIds: options.serviceIds,
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });

  let authenticate: RequestHandler | undefined;
  const banner: string[] = [];
  if (config.CDS_CLIENTS_FILE === undefined) {
    logger.warn(OPEN_MODE_WARNING);
    banner.push(`WARNING: ${OPEN_MODE_WARNING}`);
  } else {
    const clients = loadCdsClients(config.CDS_CLIENTS_FILE);
    authenticate = createClientAuthenticator({
      clients,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      replayCache: options.replayCache ?? createMemoryReplayCache(),
      logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    banner.push(
      `CDS client authentication: signed JWTs from ${clients.length} configured issuer(s)`,
    );
  }
  const authMode: AuthMode = authenticate === undefined ? 'open' : 'jwt';

  const deps: OperationsDeps = {
    logger,
    // Logging first so that even a request refused by a later middleware gets its line.
    middleware: [createHttpLogger({ logger }), metrics.middleware, createSecurityHeaders()],
    routers: [{ path: '/metrics', router: metrics.handler }],
    health: () => ({ auth: authMode }),
    onFhirCall: (event) => {
      metrics.observeFhirCall(event);
    },
    ...(authenticate === undefined ? {} : { authenticate }),
  };
  return { deps, logger, metrics, authMode, banner };
}

import type { Express, RequestHandler } from 'express';
import { Writable } from 'node:stream';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import type { FhirCallEvent } from '../../../src/fhir/gateway.js';
import { InMemoryFeedbackStore } from '../../../src/stores/feedback-store.js';
import { buildTestService, type RecordingService } from '../../fixtures/test-service.js';

export const FIXED_NOW = new Date('2026-03-01T12:00:00Z');

export interface TestAppOptions {
  env?: Record<string, string>;
  service?: RecordingService;
  authenticate?: RequestHandler;
  /** Run before the routes, after the operations middleware. */
  middleware?: RequestHandler[];
}

export interface TestApp {
  app: Express;
  service: RecordingService;
  feedbackStore: InMemoryFeedbackStore;
  fhirCalls: FhirCallEvent[];
  /** Every log line the app wrote, as raw JSON text. */
  logLines: string[];
}

/** The assembled service with a protocol-test service, a fixed clock, no retry wait and a captured log. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const service = options.service ?? buildTestService();
  const feedbackStore = new InMemoryFeedbackStore();
  const fhirCalls: FhirCallEvent[] = [];
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = loadConfig({
    FHIR_TIMEOUT_MS: '300',
    HOOK_DEADLINE_MS: '3000',
    MAX_BODY: '4kb',
    LOG_LEVEL: 'info',
    EMBEDDED_FHIR: 'false',
    // The test FHIR servers (fixtures and HAPI-like); anything else is refused as in production.
    FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org,https://hapi.example.org',
    ...options.env,
  });
  const { app } = await assembleService(config, {
    services: [service],
    stores: { feedback: feedbackStore },
    now: () => FIXED_NOW,
    logDestination: sink,
    processMetrics: false,
    onFhirCall: (event) => fhirCalls.push(event),
    fhirRetryDelayMs: () => 0,
    ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
  });
  return { app, service, feedbackStore, fhirCalls, logLines };
}

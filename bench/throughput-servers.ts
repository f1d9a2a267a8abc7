// Endpoints of the throughput benchmark in a process of their own, away from the benchmark runner
// (which has just built and dropped the engine benchmark's 100 000-result workloads, and spawns
// load generators). `--serve hook,bare` (the default) or `--serve stack`:
//   hook   the app exactly as `src/main.ts` assembles it, trend-link publisher included;
//   bare   an express endpoint that only parses the same JSON body and answers `{"cards":[]}`;
//   stack  the same app around the same service replaying its first answer. It runs in a process
//          of its own: sharing one would give the shared code (router, middleware, the service
//          call) a second shape to optimise for and slow the hook path it is compared with.
// Prints one JSON line of URLs by endpoint once listening; exits on SIGTERM.

import express from 'express';
import { parseArgs } from 'node:util';
import { services } from '../hooks/index.js';
import { assembleService } from '../src/assemble-service.js';
import type { CdsService } from '../src/cds/service.js';
import { loadConfig } from '../src/config.js';
import { listenOnLoopback, type Listening } from './support.js';

const { values } = parseArgs({
  options: { now: { type: 'string' }, serve: { type: 'string', default: 'hook,bare' } },
});
const wanted = new Set((values.serve ?? '').split(','));
const now = values.now === undefined ? new Date() : new Date(values.now);
const service = services[0];
if (service === undefined) {
  throw new Error('hooks/index.ts defines no service');
}

async function buildServiceApp(served: CdsService) {
  const config = loadConfig({ EMBEDDED_FHIR: 'false', LOG_LEVEL: 'info' });
  // Log lines are serialised as in production, then dropped instead of written to a terminal.
  const { app } = await assembleService(config, {
    logDestination: { write: () => undefined },
    processMetrics: false,
    now: () => now,
    services: [served],
  });
  return app;
}

/**
 * The service with its first answer stored and replayed: every layer around the analysis (logging,
 * metrics, headers, validation of request and response, the card JSON on the wire) still runs, the
 * analysis does not. Its throughput is the ceiling the protocol stack alone sets.
 */
function replayFirstAnswer(inner: CdsService): CdsService {
  let answer: ReturnType<CdsService['handle']> | undefined;
  return {
    definition: inner.definition,
    handle: (invocation) => (answer ??= inner.handle(invocation)),
  };
}

const bareApp = express();
bareApp.post('/bare', express.json({ limit: '1mb' }), (_req, res) => {
  res.json({ cards: [] });
});

const path = `/cds-services/${service.definition.id}`;
const urls: Record<string, string> = {};
const listening: Listening[] = [];
if (wanted.has('hook')) {
  listening.push(await listenOnLoopback(await buildServiceApp(service)));
  urls.hook = `${listening.at(-1)?.url ?? ''}${path}`;
}
if (wanted.has('bare')) {
  listening.push(await listenOnLoopback(bareApp));
  urls.bare = `${listening.at(-1)?.url ?? ''}/bare`;
}
if (wanted.has('stack')) {
  listening.push(await listenOnLoopback(await buildServiceApp(replayFirstAnswer(service))));
  urls.stack = `${listening.at(-1)?.url ?? ''}${path}`;
}
process.stdout.write(`${JSON.stringify(urls)}\n`);
process.once('SIGTERM', () => {
  void Promise.all(listening.map((server) => server.close())).then(() => process.exit(0));
});

// A FHIR server on loopback that holds every response back by a fixed delay, run as its own
// process so its search work does not compete with the service being measured. Prints one JSON
// line `{ url, patientId, kind }` once listening; `GET /__starts` returns request start times.

import express from 'express';
import type { RequestHandler } from 'express';
import { parseArgs } from 'node:util';
import { listenOnLoopback } from './support.js';
import { WORKLOAD_PATIENT_ID, buildWorkloadPrefetch } from './workload.js';

const { values } = parseArgs({
  options: { delay: { type: 'string', default: '100' }, stub: { type: 'boolean', default: false } },
});
const delayMs = Number(values.delay);
const now = new Date();
const starts: number[] = [];
const app = express();
app.get('/__starts', (_req, res) => {
  res.json(starts);
});
app.use((_req, _res, next) => {
  starts.push(performance.now());
  setTimeout(next, delayMs);
});
let handler: RequestHandler = (_req, res) => {
  res.status(503).end();
};
app.use('/fhir', (req, res, next) => {
  handler(req, res, next);
});
const listening = await listenOnLoopback(app);

let patientId = WORKLOAD_PATIENT_ID;
let kind = 'loopback stub server';
try {
  if (values.stub === true) {
    throw new Error('stub requested');
  }
  const { createEmbeddedFhirServer } = await import('../src/fhir-server/index.js');
  const embedded = await createEmbeddedFhirServer({ baseUrl: `${listening.url}/fhir`, now });
  const demo = embedded.demoPatients[0]?.id;
  if (demo === undefined) {
    throw new Error('no demo patients');
  }
  handler = embedded.handler;
  patientId = demo;
  kind = 'embedded FHIR server (src/fhir-server)';
} catch (err) {
  if (values.stub !== true) {
    process.stderr.write(`embedded FHIR server unavailable (${String(err)}); using a stub\n`);
  }
  const prefetch = buildWorkloadPrefetch(WORKLOAD_PATIENT_ID, now);
  const keyByType: Record<string, string> = {
    Patient: 'patient',
    Observation: 'labs',
    Condition: 'conditions',
  };
  handler = (req, res) => {
    const key = keyByType[req.path.split('/')[1] ?? ''];
    const body = key === undefined ? undefined : prefetch[key];
    res
      .type('application/fhir+json')
      .json(body ?? { resourceType: 'Bundle', type: 'searchset', entry: [] });
  };
}
process.stdout.write(`${JSON.stringify({ url: `${listening.url}/fhir`, patientId, kind })}\n`);
process.once('SIGTERM', () => {
  void listening.close().then(() => process.exit(0));
});

import express from 'express';
import request from 'supertest';
import { Writable } from 'node:stream';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import { createEmbeddedFhirServer } from '../../../src/fhir-server/index.js';
import type { EmbeddedFhirServerOptions } from '../../../src/fhir-server/index.js';

// Indexing the FHIR R4 definitions takes seconds on a busy CI machine, beyond the default hook timeout.
const STARTUP_TIMEOUT_MS = 90_000;
const FHIR_JSON = 'application/fhir+json';

async function mount(options: Partial<EmbeddedFhirServerOptions>) {
  const fhir = await createEmbeddedFhirServer({
    baseUrl: 'http://127.0.0.1/fhir',
    now: new Date('2026-03-01T12:00:00Z'),
    ...options,
  });
  const app = express();
  app.use('/fhir', fhir.handler);
  return { app, demoPatients: fhir.demoPatients };
}

const patient = (family: string) => ({ resourceType: 'Patient', name: [{ family }] });

describe('Embedded FHIR server limits', () => {
  test(
    'When read-only, the demo data are loaded and readable but every write is refused with 405',
    async () => {
      const { app, demoPatients } = await mount({ readOnly: true });
      const demoId = demoPatients[0]?.id ?? '';
      expect(demoId).not.toBe('');

      await request(app).get(`/fhir/Patient/${demoId}`).expect(200);
      await request(app)
        .post('/fhir/Observation/_search')
        .type('form')
        .send({ patient: `Patient/${demoId}` })
        .expect(200);
      const refused = await request(app)
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(patient('Intruder')))
        .expect(405);
      expect(refused.body.issue[0].details.text).toMatch(/read-only/);
      await request(app)
        .put(`/fhir/Patient/${demoId}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...patient('Changed'), id: demoId }))
        .expect(405);
      await request(app).delete(`/fhir/Patient/${demoId}`).expect(405);
      await request(app)
        .post('/fhir')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] }))
        .expect(405);
      const after = await request(app).get(`/fhir/Patient/${demoId}`).expect(200);
      expect(after.body.name).not.toEqual([{ family: 'Changed' }]);
    },
    STARTUP_TIMEOUT_MS,
  );

  test('When the store holds its maximum, a new resource gets 507 while updates and deletes still work', async () => {
    const { app } = await mount({ seedDemo: false, maxResources: 2 });
    const post = (family: string) =>
      request(app)
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(patient(family)));

    const first = await post('One').expect(201);
    await post('Two').expect(201);
    const full = await post('Three').expect(507);
    expect(full.body.issue[0].details.text).toMatch(/at most 2 resources/);
    await request(app)
      .put('/fhir/Patient/not-yet-there')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...patient('Upsert'), id: 'not-yet-there' }))
      .expect(507);

    const id: string = first.body.id;
    await request(app)
      .put(`/fhir/Patient/${id}`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...patient('One, renamed'), id }))
      .expect(200);
    await request(app).delete(`/fhir/Patient/${id}`).expect(200);
    await post('Three').expect(201);
  });

  test('When the store fills up inside a transaction, the entries beyond the maximum fail', async () => {
    const { app } = await mount({ seedDemo: false, maxResources: 1 });
    const res = await request(app)
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'batch',
          entry: ['A', 'B'].map((family) => ({
            resource: patient(family),
            request: { method: 'POST', url: 'Patient' },
          })),
        }),
      );
    const statuses = (res.body.entry as { response: { status: string } }[]).map((e) =>
      Number.parseInt(e.response.status, 10),
    );
    expect(statuses[0]).toBe(201);
    expect(statuses[1]).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(res.body.entry[1])).toMatch(/at most 1 resources/);
  });

  test('When a request body is above the cap, answers 413', async () => {
    const { app } = await mount({ seedDemo: false, maxBodyBytes: 1024 });
    const big = { ...patient('Big'), text: { status: 'generated', div: 'x'.repeat(4096) } };
    const res = await request(app)
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(big))
      .expect(413);
    expect(res.body.issue[0].details.text).toMatch(/larger than the limit of 1024 bytes/);
  });

  test(
    'When NODE_ENV=production, the assembled service serves the embedded server read-only',
    async () => {
      const config = loadConfig({ NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
      const { app } = await assembleService(config, {
        processMetrics: false,
        logDestination: new Writable({ write: (_c, _e, done) => done() }),
      });
      await request(app)
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(patient('Intruder')))
        .expect(405);
      await request(app).get('/fhir/Patient?_count=1').expect(200);
    },
    STARTUP_TIMEOUT_MS,
  );
});

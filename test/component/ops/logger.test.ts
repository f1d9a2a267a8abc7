import express from 'express';
import request from 'supertest';
import { createHttpLogger, createLogger, scrubSecrets } from '../../../src/observability/logger.js';
import { captureLog } from './log-capture.js';

const BEARER_JWT =
  'eyJhbGciOiJFUzM4NCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2Voci5leGFtcGxlIiwianRpIjoiMSJ9.c2lnbmF0dXJlLXBhcnQ';
const OPAQUE_ACCESS_TOKEN = 'opaque-access-token-7f3a9c1e55';
const FHIR_JWT_ACCESS_TOKEN =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6InBhdGllbnQvKi5yZWFkIn0.ZmhpcnNpZ25hdHVyZQ';
const HOOK_INSTANCE = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea';

function buildHookBody() {
  return {
    hook: 'patient-view',
    hookInstance: HOOK_INSTANCE,
    fhirServer: 'http://127.0.0.1:9/fhir',
    fhirAuthorization: {
      access_token: OPAQUE_ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'patient/*.read',
      subject: 'cds-service',
    },
    context: { userId: 'Practitioner/1', patientId: 'patient-secret-id' },
    prefetch: { patient: { resourceType: 'Patient', id: 'patient-secret-id' } },
  };
}

describe('request logging', () => {
  it('When a handler carelessly logs headers, body and tokens, none of the tokens reach the log stream', async () => {
    const sink = captureLog();
    const logger = createLogger({ level: 'debug', destination: sink });
    const app = express();
    app.use(createHttpLogger({ logger }));
    app.use(express.json());
    app.post('/cds-services/:id', (req, res) => {
      req.log.info({ headers: req.headers, body: req.body }, 'careless dump');
      req.log.info({ request: req.body }, 'nested dump');
      req.log.info({ fhir: { fhirAuthorization: { access_token: OPAQUE_ACCESS_TOKEN } } }, 'deep');
      req.log.warn(`token in message ${BEARER_JWT} and ${FHIR_JWT_ACCESS_TOKEN}`);
      req.log.error(new Error(`upstream said Bearer ${BEARER_JWT}`), 'failure');
      res.locals.fhirStats = { calls: 3, totalMs: 12.345 };
      res.json({ cards: [] });
    });

    const body = buildHookBody();
    body.fhirAuthorization.access_token = OPAQUE_ACCESS_TOKEN;
    await request(app)
      .post('/cds-services/liver-trends?access_token=query-secret-123')
      .set('Authorization', `Bearer ${BEARER_JWT}`)
      .set('X-Request-Id', 'ehr-req-42')
      .send({ ...body, extra: { access_token: FHIR_JWT_ACCESS_TOKEN } })
      .expect(200)
      .expect('X-Request-Id', 'ehr-req-42');

    const text = sink.text();
    expect(text).toContain('careless dump');
    for (const secret of [
      BEARER_JWT,
      OPAQUE_ACCESS_TOKEN,
      FHIR_JWT_ACCESS_TOKEN,
      'query-secret-123',
      'patient-secret-id',
      'signature-part',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('When a hook call finishes, one JSON line records id, service, hookInstance, status, duration and FHIR traffic', async () => {
    const sink = captureLog();
    const app = express();
    app.use(createHttpLogger({ logger: createLogger({ level: 'info', destination: sink }) }));
    app.use(express.json());
    app.post('/cds-services/:id', (_req, res) => {
      res.locals.fhirStats = { calls: 3, totalMs: 12.345 };
      res.json({ cards: [] });
    });

    await request(app)
      .post('/cds-services/liver-trends')
      .set('X-Request-Id', 'ehr-req-7')
      .send(buildHookBody())
      .expect(200);

    const lines = sink.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      reqId: 'ehr-req-7',
      service: 'liver-trends',
      hookInstance: HOOK_INSTANCE,
      fhirCalls: 3,
      fhirMs: 12.3,
      req: { method: 'POST', path: '/cds-services/liver-trends' },
      res: { statusCode: 200 },
      durationMs: expect.any(Number),
    });
  });

  it('When a caller puts a token in the URL path, the completion line carries the path without it', async () => {
    const sink = captureLog();
    const app = express();
    app.use(createHttpLogger({ logger: createLogger({ level: 'info', destination: sink }) }));
    app.post('/cds-services/:id', (_req, res) => {
      res.status(404).json({});
    });

    await request(app).post(`/cds-services/${BEARER_JWT}`).send({}).expect(404);

    expect(sink.text()).not.toContain('signature-part');
    expect(sink.lines()[0]).toMatchObject({
      req: { path: '/cds-services/[Redacted]' },
      service: '[Redacted]',
      res: { statusCode: 404 },
    });
  });

  it('When the caller sends no or a malformed X-Request-Id, a fresh UUID is used and returned', async () => {
    const sink = captureLog();
    const app = express();
    app.use(createHttpLogger({ logger: createLogger({ level: 'info', destination: sink }) }));
    app.get('/x', (_req, res) => {
      res.json({});
    });
    const res = await request(app).get('/x').set('X-Request-Id', 'bad id\twith "quotes"');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sink.lines()[0]?.reqId).toBe(res.headers['x-request-id']);
  });

  it.each([
    [`Bearer ${BEARER_JWT}`, 'Bearer [Redacted]'],
    [`{"access_token":"${OPAQUE_ACCESS_TOKEN}","x":1}`, '{"access_token":"[Redacted]","x":1}'],
    ['{"Authorization": "Basic abc"}', '{"Authorization":"[Redacted]"}'],
    ['nothing secret here', 'nothing secret here'],
  ])('When a log line holds %s, the scrubber leaves %s', (line, expected) => {
    expect(scrubSecrets(line)).toBe(expected);
  });
});

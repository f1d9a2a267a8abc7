import type { RequestHandler } from 'express';
import nock from 'nock';
import request from 'supertest';
import { CdsResponseSchema, type Card } from '../../../src/cds/schemas.js';
import { CdsError } from '../../../src/http/errors.js';
import { buildCdsRequest, buildPatient, buildSearchset } from '../../fixtures/cds-request.js';
import { buildTestService } from '../../fixtures/test-service.js';
import { buildTestApp } from './harness.js';

const HOOK_URL = '/cds-services/protocol-test';
const FULL_PREFETCH = { patient: buildPatient(), labs: buildSearchset([]) };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

describe('GET /cds-services', () => {
  test('Lists each registered service with its id, hook and prefetch templates', async () => {
    const { app } = await buildTestApp();

    const res = await request(app).get('/cds-services').expect(200);

    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({
      services: [
        {
          id: 'protocol-test',
          hook: 'patient-view',
          title: 'Protocol test service',
          description: 'Reports which prefetch keys it received; used only by the protocol tests.',
          prefetch: {
            patient: 'Patient/{{context.patientId}}',
            labs: 'Observation?patient={{context.patientId}}&code=http://loinc.org|6768-6&_sort=-date&_count=20',
          },
        },
      ],
    });
  });

  test('Discovery stays open when hook calls require client authentication', async () => {
    const deny: RequestHandler = () => {
      throw new CdsError('UNAUTHORIZED', 'A signed JWT is required');
    };
    const { app } = await buildTestApp({ authenticate: deny });

    await request(app).get('/cds-services').expect(200);
    const hook = await request(app).post(HOOK_URL).send(buildCdsRequest()).expect(401);
    const feedback = await request(app).post(`${HOOK_URL}/feedback`).send({}).expect(401);

    expect(hook.body.issue[0].diagnostics).toBe('A signed JWT is required');
    expect(feedback.body.issue[0].code).toBe('login');
  });
});

describe('POST /cds-services/{id}', () => {
  test('When every prefetch key is sent, answers 200 with cards built from exactly that data', async () => {
    const { app, service } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(200);

    expect(CdsResponseSchema.safeParse(res.body).success).toBe(true);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=0');
    expect(service.invocations[0]?.data).toEqual(FULL_PREFETCH);
    expect(service.invocations[0]?.now.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(service.invocations[0]?.lookbackDays).toBe(180);
  });

  test('Empty optional card fields are left out of the response, as the spec requires', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(200);

    expect(Object.keys(res.body.cards[0]).sort()).toEqual([
      'indicator',
      'source',
      'summary',
      'uuid',
    ]);
    expect(JSON.stringify(res.body)).not.toMatch(/""|\[\]|\{\}|null/);
  });

  test('When the answer is written, the parsed prefetch is released before the response finishes, and no ETag is computed', async () => {
    let bodyAtFinish: unknown = 'not seen';
    const watchFinish: RequestHandler = (req, res, next) => {
      res.on('finish', () => {
        bodyAtFinish = req.body;
      });
      next();
    };
    const { app } = await buildTestApp({ middleware: [watchFinish] });

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(200);

    expect(res.body.cards.length).toBeGreaterThan(0);
    expect(res.headers.etag).toBeUndefined();
    expect(bodyAtFinish).toBeUndefined();
  });

  test('When the service has no advice, answers 200 with an empty card list', async () => {
    const service = buildTestService({ buildCards: () => [] });
    const { app } = await buildTestApp({ service });

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(200);

    expect(res.body).toEqual({ cards: [] });
  });

  test.each([
    ['hookInstance is missing', { hookInstance: undefined }, 'hookInstance', 'is required'],
    ['hookInstance is not a UUID', { hookInstance: 'abc' }, 'hookInstance', 'must be a UUID'],
    [
      'fhirServer is not a URL',
      { fhirServer: 'ehr.example.org' },
      'fhirServer',
      'must be an absolute http(s) URL',
    ],
    [
      'token_type is not Bearer',
      {
        fhirAuthorization: { ...buildCdsRequest().fhirAuthorization!, token_type: 'bearer-ish' },
      },
      'fhirAuthorization.token_type',
      "must be 'Bearer'",
    ],
    [
      'context.patientId is missing',
      { context: { userId: 'Practitioner/example' } },
      'context.patientId',
      'Invalid input: expected string, received undefined',
    ],
    [
      'a prefetch value is not a resource',
      { prefetch: { patient: 'Patient/1288992' } },
      'prefetch.patient',
      'must be a FHIR resource (a JSON object with a string resourceType)',
    ],
  ])(
    'When %s, answers 400 naming the field and the problem',
    async (_name, override, field, message) => {
      const { app } = await buildTestApp();

      const res = await request(app)
        .post(HOOK_URL)
        .send({ ...buildCdsRequest({ prefetch: FULL_PREFETCH }), ...override })
        .expect(400);

      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue).toEqual([
        { severity: 'error', code: 'invalid', diagnostics: message, expression: [field] },
      ]);
    },
  );

  test('When the hook does not match the service, answers 400 naming both hooks', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ hook: 'order-sign', prefetch: FULL_PREFETCH }))
      .expect(400);

    expect(res.body.issue[0].diagnostics).toBe(
      "hook 'order-sign' does not match service 'protocol-test', which answers 'patient-view'",
    );
  });

  test('When the body is not valid JSON, answers 400 with an OperationOutcome, not an HTML page', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .set('Content-Type', 'application/json')
      .send('{"hook": "patient-view",')
      .expect(400);

    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.issue[0]).toMatchObject({
      code: 'structure',
      diagnostics: 'Request body is not valid JSON',
    });
    expect(res.text).not.toMatch(/<html|at .*\.js:\d+/i);
  });

  test('When the body is larger than MAX_BODY, answers 413', async () => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '1kb' } });
    const big = buildCdsRequest({
      prefetch: { ...FULL_PREFETCH, patient: buildPatient({ id: 'x'.repeat(2000) }) },
    });

    const res = await request(app).post(HOOK_URL).send(big).expect(413);

    expect(res.body.issue[0]).toMatchObject({ code: 'too-long' });
    expect(res.body.issue[0].diagnostics).toContain('1024 bytes');
  });

  test('When the body is not JSON at all, answers 415', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .set('Content-Type', 'text/plain')
      .send('hello')
      .expect(415);

    expect(res.body.issue[0].diagnostics).toBe('Content-Type must be application/json');
  });

  test('When the service id is unknown, answers 404 with an OperationOutcome', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .post('/cds-services/no-such-service')
      .send(buildCdsRequest())
      .expect(404);

    expect(res.body.issue[0]).toMatchObject({
      code: 'not-found',
      diagnostics: "No CDS service with id 'no-such-service'",
    });
  });

  test('When the service builds a card that breaks the schema, answers a generic 500 and logs why', async () => {
    const broken = { uuid: 'NOT-LOWERCASE', summary: '', indicator: 'hard-stop' };
    const service = buildTestService({ buildCards: () => [broken as unknown as Card] });
    const { app, logLines } = await buildTestApp({ service });

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(500);

    expect(res.body.issue).toEqual([
      {
        severity: 'error',
        code: 'exception',
        diagnostics: expect.stringMatching(/^Internal error \(request id [0-9a-f-]{36}\)$/),
      },
    ]);
    const logged = logLines.join('');
    expect(logged).toContain('service built an invalid CDS response');
    expect(logged).toContain('cards[0].source');
    expect(logged).toContain('cards[0].indicator');
  });

  test('When the service throws, answers 500 without the message or stack', async () => {
    const service = buildTestService({
      buildCards: () => {
        throw new Error('secret internals at line 42');
      },
    });
    const { app } = await buildTestApp({ service });

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: FULL_PREFETCH }))
      .expect(500);

    expect(res.text).not.toContain('secret internals');
    expect(res.body.issue[0].diagnostics).toMatch(/^Internal error \(request id [0-9a-f-]{36}\)$/);
  });
});

describe('CORS for browser-based CDS clients', () => {
  test('A preflight for a hook call is answered 204 allowing Authorization and Content-Type', async () => {
    const { app } = await buildTestApp();

    const res = await request(app)
      .options(HOOK_URL)
      .set('Origin', 'https://sandbox.cds-hooks.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);

    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/);
  });

  test('Answers, errors included, carry Access-Control-Allow-Origin', async () => {
    const { app } = await buildTestApp();

    const ok = await request(app).get('/cds-services').set('Origin', 'https://a.example');
    const failed = await request(app).post('/cds-services/nope').set('Origin', 'https://a.example');

    expect(ok.headers['access-control-allow-origin']).toBe('*');
    expect(failed.status).toBe(404);
    expect(failed.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('Other routes', () => {
  test('GET /healthz answers 200 with the number of services', async () => {
    const { app } = await buildTestApp();

    const res = await request(app).get('/healthz').expect(200);

    expect(res.body).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      services: 1,
      auth: 'open',
    });
  });

  test('An unknown route answers a JSON 404', async () => {
    const { app } = await buildTestApp();

    const res = await request(app).get('/nothing/here').expect(404);

    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'not-found', diagnostics: 'No route for GET /nothing/here' },
      ],
    });
  });
});

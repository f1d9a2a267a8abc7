import nock from 'nock';
import request from 'supertest';
import {
  buildCdsRequest,
  buildPatient,
  buildSearchset,
  TEST_FHIR_SERVER,
} from '../../fixtures/cds-request.js';
import { buildTestService } from '../../fixtures/test-service.js';
import { buildTestApp } from './harness.js';

// A failed client prefetch is not "no data", and nothing from the request can steer a FHIR URL
// outside the FHIR base.

const HOOK_URL = '/cds-services/protocol-test';
const FEEDBACK_URL = '/cds-services/protocol-test/feedback';

const failedPrefetch: fhir4.OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'exception', diagnostics: 'search timed out' }],
};

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
  // nock patches the shared node:http module: left active, it changes later suites in this worker.
  nock.restore();
});

describe('A prefetch key holding an OperationOutcome', () => {
  test('Is fetched from fhirServer as if it had not been sent', async () => {
    const fhir = nock(TEST_FHIR_SERVER)
      .get('/Observation')
      .query(true)
      .reply(200, buildSearchset([]));
    const { app, service } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ prefetch: { patient: buildPatient(), labs: failedPrefetch } }))
      .expect(200);

    expect(fhir.isDone()).toBe(true);
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=0');
    expect(service.invocations[0]?.data.labs?.resourceType).toBe('Bundle');
  });

  test('Gives 412 naming the key when there is no fhirServer', async () => {
    const { app, service } = await buildTestApp();
    const body = buildCdsRequest({ prefetch: { patient: buildPatient(), labs: failedPrefetch } });
    delete body.fhirServer;
    delete body.fhirAuthorization;

    const res = await request(app).post(HOOK_URL).send(body).expect(412);

    expect(res.body.issue).toEqual([
      expect.objectContaining({
        expression: ['prefetch.labs'],
        diagnostics:
          "prefetch key 'labs' holds an OperationOutcome (the client could not prefetch it) and no fhirServer was given to fetch it from",
      }),
    ]);
    expect(service.invocations).toEqual([]);
  });
});

describe('context.patientId must be a FHIR id', () => {
  test.each([
    ['a path that climbs out of the base', '../Group/1'],
    ['a bare parent segment', '..'],
    ['a query', '1288992?_format=xml'],
    ['a slash', 'Patient/1288992'],
    ['65 characters', 'a'.repeat(65)],
    ['an empty string', ''],
  ])('When it is %s, answers 400 before any FHIR request', async (_name, patientId) => {
    const trap = nock(TEST_FHIR_SERVER).get(/.*/).query(true).reply(200, buildPatient());
    const { app, fhirCalls } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ context: { userId: 'Practitioner/example', patientId } }))
      .expect(400);

    expect(res.body.issue[0].expression).toEqual(['context.patientId']);
    expect(fhirCalls).toEqual([]);
    expect(trap.isDone()).toBe(false);
  });

  test('A FHIR token limited to another patient is refused with 400', async () => {
    const { app, fhirCalls } = await buildTestApp();
    const body = buildCdsRequest();

    const res = await request(app)
      .post(HOOK_URL)
      .send({ ...body, fhirAuthorization: { ...body.fhirAuthorization!, patient: 'someone-else' } })
      .expect(400);

    expect(res.body.issue[0]).toMatchObject({
      expression: ['fhirAuthorization.patient'],
      diagnostics: 'must be context.patientId when present',
    });
    expect(fhirCalls).toEqual([]);
  });

  test('Is checked for any hook, not only patient-view', async () => {
    const service = buildTestService({ hook: 'order-select' });
    const { app } = await buildTestApp({ service });

    const res = await request(app)
      .post(HOOK_URL)
      .send({
        ...buildCdsRequest({ prefetch: { patient: null, labs: null } }),
        hook: 'order-select',
        context: { userId: 'Practitioner/example', patientId: '../../metadata' },
      })
      .expect(400);

    expect(res.body.issue[0].expression).toEqual(['context.patientId']);
  });
});

describe('Values filled into prefetch templates', () => {
  test('A context value that is not a FHIR id cannot fill a read path: 400, no request', async () => {
    const service = buildTestService({
      hook: 'custom-hook',
      prefetch: { encounter: 'Encounter/{{context.encounterId}}' },
    });
    const trap = nock(TEST_FHIR_SERVER).get(/.*/).query(true).reply(200, {});
    const { app, fhirCalls } = await buildTestApp({ service });

    const res = await request(app)
      .post(HOOK_URL)
      .send({
        ...buildCdsRequest(),
        hook: 'custom-hook',
        context: { patientId: '1288992', encounterId: '../Patient/other' },
      })
      .expect(400);

    expect(res.body.issue[0]).toMatchObject({
      expression: ['context.encounterId'],
      diagnostics: "must be a FHIR id to fill prefetch key 'encounter'",
    });
    expect(fhirCalls).toEqual([]);
    expect(trap.isDone()).toBe(false);
  });
});

describe('Free strings are bounded', () => {
  function feedback(item: Record<string, unknown>) {
    return {
      feedback: [
        {
          card: '9a3d7c1e-5b2f-4e8a-b1c6-0d4f2e8a7b90',
          outcome: 'overridden',
          outcomeTimestamp: '2026-03-01T12:00:00Z',
          ...item,
        },
      ],
    };
  }

  test('A userComment over 4096 UTF-8 bytes is refused, one at the limit is kept', async () => {
    const { app, feedbackStore } = await buildTestApp({ env: { MAX_BODY: '64kb' } });

    const tooLong = await request(app)
      .post(FEEDBACK_URL)
      .send(feedback({ overrideReason: { userComment: 'é'.repeat(2049) } }))
      .expect(400);
    await request(app)
      .post(FEEDBACK_URL)
      .send(feedback({ overrideReason: { userComment: 'é'.repeat(2048) } }))
      .expect(200);

    expect(tooLong.body.issue[0].expression).toEqual(['feedback[0].overrideReason.userComment']);
    expect(await feedbackStore.list()).toHaveLength(1);
  });

  test('An outcomeTimestamp over 64 characters is refused', async () => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '64kb' } });

    const res = await request(app)
      .post(FEEDBACK_URL)
      .send(feedback({ outcomeTimestamp: `2026-03-01T12:00:00.${'0'.repeat(60)}Z` }))
      .expect(400);

    expect(res.body.issue[0].expression).toEqual(['feedback[0].outcomeTimestamp']);
    expect(res.body.issue[0].diagnostics).toBe('must be at most 64 characters');
  });

  test('An access token over 16 kB is refused', async () => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '64kb' } });
    const body = buildCdsRequest();

    const res = await request(app)
      .post(HOOK_URL)
      .send({
        ...body,
        fhirAuthorization: { ...body.fhirAuthorization!, access_token: 'x'.repeat(16_385) },
      })
      .expect(400);

    expect(res.body.issue[0].expression).toEqual(['fhirAuthorization.access_token']);
  });
});

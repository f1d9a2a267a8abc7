import nock from 'nock';
import request from 'supertest';
import { SUBSETTED_TAG } from '../../../src/fhir/gateway.js';
import {
  TEST_ACCESS_TOKEN,
  buildCdsRequest,
  buildPatient,
  buildSearchset,
} from '../../fixtures/cds-request.js';
import {
  HAPI_BASE,
  HAPI_ORIGIN,
  HAPI_PATH,
  buildHapiObservations,
  buildHapiPage,
  hapiPageQuery,
} from './hapi-fixtures.js';
import { buildTestApp } from './harness.js';

const HOOK_URL = '/cds-services/protocol-test';
const BEARER = `Bearer ${TEST_ACCESS_TOKEN}`;

/** A request against the HAPI-like server that sends the patient but leaves `labs` to be fetched. */
function requestMissingLabs(overrides: Parameters<typeof buildCdsRequest>[0] = {}) {
  return buildCdsRequest({
    fhirServer: HAPI_BASE,
    prefetch: { patient: buildPatient() },
    ...overrides,
  });
}

function labsIdsOf(data: Record<string, fhir4.Resource | null> | undefined): string[] {
  const labs = data?.labs;
  if (labs?.resourceType !== 'Bundle') {
    return [];
  }
  return ((labs as fhir4.Bundle).entry ?? []).map((entry) => entry.resource?.id ?? '');
}

type ReplyCallback = (error: NodeJS.ErrnoException | null, result: nock.ReplyFnResult) => void;

/** Replies parked by `holdReply`; released after each test so no timer outlives the suite. */
let heldReplies: (() => void)[] = [];

/** A nock reply that is only sent when the test releases it (or the test ends). */
function holdReply(body: nock.ReplyBody) {
  return (_uri: string, _requestBody: nock.Body, callback: ReplyCallback) => {
    heldReplies.push(() => callback(null, [200, body]));
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  heldReplies.forEach((release) => release());
  heldReplies = [];
  nock.cleanAll();
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

describe('Fetching prefetch keys the client did not send', () => {
  test('A missing key is searched on fhirServer with the bearer token and the resolved template', async () => {
    let captured: Record<string, unknown> = {};
    const fhir = nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .matchHeader('authorization', BEARER)
      .query((query) => {
        captured = query;
        return true;
      })
      .reply(
        200,
        buildHapiPage({
          searchId: 's1',
          offset: 0,
          resources: buildHapiObservations(101, 3),
          hasNext: false,
        }),
      );
    const { app, service } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(fhir.isDone()).toBe(true);
    expect(captured).toEqual({
      patient: '1288992',
      code: 'http://loinc.org|6768-6',
      _sort: '-date',
      _count: '20',
    });
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=3');
    expect(labsIdsOf(service.invocations[0]?.data)).toEqual(['101', '102', '103']);
  });

  test('Keys missing together are fetched in one parallel wave, a read and a search at once', async () => {
    // Each reply waits until both requests have arrived; fetching one after the other never gets there.
    let inFlight = 0;
    let maxInFlight = 0;
    const replyWhenBothArrived =
      (body: nock.ReplyBody) => (_uri: string, _req: nock.Body, callback: ReplyCallback) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        heldReplies.push(() => {
          inFlight -= 1;
          callback(null, [200, body]);
        });
        if (heldReplies.length === 2) {
          heldReplies.splice(0).forEach((release) => release());
        }
      };
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Patient/1288992`)
      .reply(replyWhenBothArrived(buildPatient()));
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        replyWhenBothArrived(
          buildHapiPage({ searchId: 's1', offset: 0, resources: [], hasNext: false }),
        ),
      );
    const { app, fhirCalls } = await buildTestApp({ env: { FHIR_TIMEOUT_MS: '1000' } });

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ fhirServer: HAPI_BASE }))
      .expect(200);

    expect(maxInFlight).toBe(2);
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=0');
    expect(fhirCalls.map((call) => call.outcome)).toEqual(['ok', 'ok']);
  });

  test('A HAPI search spanning 3 pages is followed through its _getpages links and merged', async () => {
    const fhir = nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'abc-123',
          offset: 0,
          resources: buildHapiObservations(1000, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('abc-123', 20))
      .matchHeader('authorization', BEARER)
      .reply(
        200,
        buildHapiPage({
          searchId: 'abc-123',
          offset: 20,
          resources: buildHapiObservations(1020, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('abc-123', 40))
      .reply(
        200,
        buildHapiPage({
          searchId: 'abc-123',
          offset: 40,
          resources: buildHapiObservations(1040, 5),
          hasNext: false,
          include: [buildPatient({ id: '77' })],
        }),
      );
    const { app, service, fhirCalls } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(fhir.isDone()).toBe(true);
    expect(fhirCalls).toHaveLength(3);
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=45');
    const ids = labsIdsOf(service.invocations[0]?.data);
    expect(ids).toHaveLength(45);
    expect(ids[0]).toBe('1000');
    expect(ids[44]).toBe('1044');
    expect(ids).not.toContain('77');
    expect(service.invocations[0]?.data.labs).toMatchObject({
      resourceType: 'Bundle',
      type: 'searchset',
    });
    expect(service.invocations[0]?.data.labs).not.toHaveProperty('total');
  });

  test('When a next page has expired (410 Gone), the search is run again from the start once', async () => {
    const fhir = nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'old',
          offset: 0,
          resources: buildHapiObservations(1, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('old', 20))
      .reply(410, {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'processing',
            diagnostics: 'Search ID[old] does not exist and may have expired.',
          },
        ],
      })
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'new',
          offset: 0,
          resources: buildHapiObservations(1, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('new', 20))
      .reply(
        200,
        buildHapiPage({
          searchId: 'new',
          offset: 20,
          resources: buildHapiObservations(21, 2),
          hasNext: false,
        }),
      );
    const { app, service, fhirCalls } = await buildTestApp();

    await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(fhir.isDone()).toBe(true);
    expect(fhirCalls.map((call) => call.outcome)).toEqual(['ok', 'gone', 'ok', 'ok']);
    const ids = labsIdsOf(service.invocations[0]?.data);
    expect(ids).toHaveLength(22);
    expect(new Set(ids).size).toBe(22);
  });

  test('When the search has more pages than FHIR_MAX_PAGES, stops there and tags the result SUBSETTED', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'big',
          offset: 0,
          resources: buildHapiObservations(1, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('big', 20))
      .reply(
        200,
        buildHapiPage({
          searchId: 'big',
          offset: 20,
          resources: buildHapiObservations(21, 20),
          hasNext: true,
        }),
      );
    const third = nock(HAPI_ORIGIN).get(HAPI_PATH).query(hapiPageQuery('big', 40)).reply(200, {});
    const { app, service } = await buildTestApp({ env: { FHIR_MAX_PAGES: '2' } });

    await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(third.isDone()).toBe(false);
    expect(labsIdsOf(service.invocations[0]?.data)).toHaveLength(40);
    expect(service.invocations[0]?.data.labs?.meta?.tag).toEqual([SUBSETTED_TAG]);
  });

  test('When the FHIR server answers 500 and then 200, the call is retried once and succeeds', async () => {
    const fhir = nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(500, { resourceType: 'OperationOutcome', issue: [] })
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 's',
          offset: 0,
          resources: buildHapiObservations(5, 1),
          hasNext: false,
        }),
      );
    const { app, fhirCalls } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(fhir.isDone()).toBe(true);
    expect(fhirCalls).toEqual([
      expect.objectContaining({ status: 500, outcome: 'server_error' }),
      expect.objectContaining({ status: 200, outcome: 'ok' }),
    ]);
    expect(res.body.cards[0].summary).toBe('Received patient=Patient, labs=1');
  });

  test('When the connection is reset and then succeeds, the call is retried once', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' })
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(200, buildHapiPage({ searchId: 's', offset: 0, resources: [], hasNext: false }));
    const { app, fhirCalls } = await buildTestApp();

    await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(200);

    expect(fhirCalls.map((call) => call.outcome)).toEqual(['network_error', 'ok']);
  });

  test('A Patient the FHIR server does not know (404) gives 412 naming the Patient read, not an empty answer', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Patient/1288992`)
      .reply(404, {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'processing',
            diagnostics: 'HAPI-2001: Resource Patient/1288992 is not known',
          },
        ],
      });
    const { app, service } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ fhirServer: HAPI_BASE, prefetch: { labs: buildSearchset([]) } }))
      .expect(412);

    expect(res.body.issue).toEqual([
      expect.objectContaining({
        expression: ['prefetch.patient'],
        diagnostics: expect.stringMatching(/prefetch key 'patient'.*Patient read.*not found/),
      }),
    ]);
    expect(service.invocations).toEqual([]);
  });
});

describe('A null prefetch key', () => {
  test('Means "no data" and makes no FHIR request at all', async () => {
    const trap = nock(HAPI_ORIGIN).get(/.*/).query(true).reply(200, buildPatient());
    const { app, service, fhirCalls } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ fhirServer: HAPI_BASE, prefetch: { patient: null, labs: null } }))
      .expect(200);

    expect(res.body.cards[0].summary).toBe('Received patient=none, labs=none');
    expect(service.invocations[0]?.data).toEqual({ patient: null, labs: null });
    expect(fhirCalls).toEqual([]);
    expect(trap.isDone()).toBe(false);
    expect(nock.pendingMocks()).toHaveLength(1);
  });
});

describe('When FHIR data cannot be obtained, answers 412', () => {
  test('A missing key with no fhirServer names the key', async () => {
    const { app } = await buildTestApp();
    const body = buildCdsRequest({ prefetch: { patient: buildPatient() } });
    delete body.fhirServer;
    delete body.fhirAuthorization;

    const res = await request(app).post(HOOK_URL).send(body).expect(412);

    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'incomplete',
          diagnostics:
            "prefetch key 'labs' was not sent and no fhirServer was given to fetch it from",
          expression: ['prefetch.labs'],
        },
      ],
    });
  });

  test.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
  ])('FHIR %i gives 412 saying which key failed, without the token', async (status, outcome) => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(status, { resourceType: 'OperationOutcome', issue: [] });
    const { app, fhirCalls, logLines } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);

    expect(res.body.issue).toHaveLength(1);
    expect(res.body.issue[0].expression).toEqual(['prefetch.labs']);
    expect(res.body.issue[0].diagnostics).toContain(`could not obtain prefetch key 'labs'`);
    expect(res.body.issue[0].diagnostics).toContain(`answered ${status}`);
    expect(fhirCalls).toEqual([expect.objectContaining({ status, outcome })]);
    expect(res.text).not.toContain(TEST_ACCESS_TOKEN);
    expect(logLines.join('')).not.toContain(TEST_ACCESS_TOKEN);
  });

  test('A FHIR server slower than FHIR_TIMEOUT_MS gives 412 within the timeout plus a margin', async () => {
    const timeoutMs = 300;
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(holdReply(buildHapiPage({ searchId: 's', offset: 0, resources: [], hasNext: false })));
    const { app, fhirCalls } = await buildTestApp({ env: { FHIR_TIMEOUT_MS: String(timeoutMs) } });

    const started = performance.now();
    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(timeoutMs + 700);
    expect(res.body.issue[0]).toMatchObject({ code: 'timeout', expression: ['prefetch.labs'] });
    expect(res.body.issue[0].diagnostics).toContain(`timed out after ${timeoutMs} ms`);
    expect(fhirCalls).toEqual([expect.objectContaining({ outcome: 'timeout' })]);
  });

  test('HOOK_DEADLINE_MS bounds the whole call even when each request may take longer', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(holdReply(buildHapiPage({ searchId: 's', offset: 0, resources: [], hasNext: false })));
    const { app } = await buildTestApp({
      env: { FHIR_TIMEOUT_MS: '4000', HOOK_DEADLINE_MS: '250' },
    });

    const started = performance.now();
    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);

    expect(performance.now() - started).toBeLessThan(250 + 700);
    expect(res.body.issue[0].diagnostics).toContain('did not finish before the hook deadline');
  });

  test('A FHIR body that is not JSON gives 412, not a crash', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(200, '{"resourceType": "Bundle", "entry": [', {
        'Content-Type': 'application/fhir+json',
      });
    const { app, fhirCalls } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);

    expect(res.body.issue[0].diagnostics).toContain('returned a body that is not JSON');
    expect(fhirCalls).toEqual([expect.objectContaining({ outcome: 'malformed' })]);
  });

  test('A search answered with something other than a searchset Bundle gives 412', async () => {
    nock(HAPI_ORIGIN).get(`${HAPI_PATH}/Observation`).query(true).reply(200, buildPatient());
    const { app } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);

    expect(res.body.issue[0].diagnostics).toContain('did not return a searchset Bundle');
  });

  test('A next link to another server is not followed, so the token stays with fhirServer', async () => {
    const page = buildHapiPage({
      searchId: 's',
      offset: 0,
      resources: buildHapiObservations(1, 20),
      hasNext: false,
    });
    page.link = [{ relation: 'next', url: 'https://elsewhere.example.net/steal?_getpages=s' }];
    nock(HAPI_ORIGIN).get(`${HAPI_PATH}/Observation`).query(true).reply(200, page);
    const elsewhere = nock('https://elsewhere.example.net')
      .get('/steal')
      .query(true)
      .reply(200, {});
    const { app } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(requestMissingLabs()).expect(412);

    expect(elsewhere.isDone()).toBe(false);
    expect(res.body.issue[0].diagnostics).toContain('next link to another server');
  });

  test('When several keys fail, every one of them is named', async () => {
    nock(HAPI_ORIGIN).get(`${HAPI_PATH}/Patient/1288992`).reply(403, {});
    nock(HAPI_ORIGIN).get(`${HAPI_PATH}/Observation`).query(true).reply(401, {});
    const { app } = await buildTestApp();

    const res = await request(app)
      .post(HOOK_URL)
      .send(buildCdsRequest({ fhirServer: HAPI_BASE }))
      .expect(412);

    expect(res.body.issue.map((issue: { expression: string[] }) => issue.expression[0])).toEqual([
      'prefetch.patient',
      'prefetch.labs',
    ]);
  });
});

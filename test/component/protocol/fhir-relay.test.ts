import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import request from 'supertest';
import type { RequestHandler } from 'express';
import { SUBSETTED_TAG } from '../../../src/fhir/gateway.js';
import { CdsClientSchema } from '../../../src/http/client-auth.js';
import { buildCdsRequest, buildPatient } from '../../fixtures/cds-request.js';
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

/** A request that sends the patient and leaves `labs` to be fetched from `fhirServer`. */
function needsFetchFrom(fhirServer: string) {
  return buildCdsRequest({ fhirServer, prefetch: { patient: buildPatient() } });
}

/** Stands in for client authentication: the caller is a client with these `fhir_servers`. */
function authenticatedAs(fhirServers?: string[]): RequestHandler {
  return (_req, res, next) => {
    res.locals.cdsClient = {
      iss: 'https://ehr.example.org',
      ...(fhirServers === undefined ? {} : { fhirServers }),
    };
    next();
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('fhirServer is not an open relay', () => {
  test('When open mode has no allowlist configured and fhirServer is a remote origin, answers 400 without any request', async () => {
    const remote = nock('https://evil.example.org').get(/.*/).reply(200, {});
    const { app, fhirCalls } = await buildTestApp({ env: { FHIR_SERVER_ALLOWLIST: '' } });

    const res = await request(app)
      .post(HOOK_URL)
      .send(needsFetchFrom('https://evil.example.org/fhir'))
      .expect(400);

    expect(res.body.issue[0]).toMatchObject({
      code: 'invalid',
      expression: ['fhirServer'],
      diagnostics: expect.stringContaining('https://evil.example.org is not on the allowlist'),
    });
    expect(remote.isDone()).toBe(false);
    expect(fhirCalls).toHaveLength(0);
  });

  test('When open mode has no allowlist configured, a loopback fhirServer is used (here: nothing listens, so 412)', async () => {
    const { app, fhirCalls } = await buildTestApp({ env: { FHIR_SERVER_ALLOWLIST: '' } });

    await request(app).post(HOOK_URL).send(needsFetchFrom('http://127.0.0.1:9/fhir')).expect(412);

    expect(fhirCalls.length).toBeGreaterThan(0);
  });

  test('When FHIR_SERVER_ALLOWLIST is set, it replaces the loopback default', async () => {
    const { app, fhirCalls } = await buildTestApp({
      env: { FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org' },
    });

    await request(app).post(HOOK_URL).send(needsFetchFrom('http://127.0.0.1:9/fhir')).expect(400);

    expect(fhirCalls).toHaveLength(0);
  });

  test('When fhirServer uses plain http on a non-loopback host, answers 400 unless ALLOW_INSECURE_FHIR=true', async () => {
    const plain = 'http://ehr.example.org/fhir';
    const refusing = await buildTestApp({
      env: { FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org' },
    });
    const res = await request(refusing.app).post(HOOK_URL).send(needsFetchFrom(plain)).expect(400);
    expect(res.body.issue[0].diagnostics).toMatch(/must use https/);
    expect(refusing.fhirCalls).toHaveLength(0);

    const fhir = nock('http://ehr.example.org')
      .get('/fhir/Observation')
      .query(true)
      .reply(200, { resourceType: 'Bundle', type: 'searchset', entry: [] });
    const allowing = await buildTestApp({
      env: { FHIR_SERVER_ALLOWLIST: 'http://ehr.example.org', ALLOW_INSECURE_FHIR: 'true' },
    });
    await request(allowing.app).post(HOOK_URL).send(needsFetchFrom(plain)).expect(200);
    expect(fhir.isDone()).toBe(true);
  });

  test("When a client is authenticated, its own fhir_servers are allowed and other clients' are not", async () => {
    const own = nock('https://own-ehr.example.org')
      .get('/r4/Observation')
      .query(true)
      .reply(200, { resourceType: 'Bundle', type: 'searchset', entry: [] });
    const { app } = await buildTestApp({
      env: { FHIR_SERVER_ALLOWLIST: '' },
      authenticate: authenticatedAs(['https://own-ehr.example.org']),
    });

    await request(app)
      .post(HOOK_URL)
      .send(needsFetchFrom('https://own-ehr.example.org/r4'))
      .expect(200);
    expect(own.isDone()).toBe(true);

    await request(app)
      .post(HOOK_URL)
      .send(needsFetchFrom('https://other-ehr.example.org/r4'))
      .expect(400);
    // Loopback is the open-mode default only; an authenticated client must list it.
    await request(app).post(HOOK_URL).send(needsFetchFrom('http://127.0.0.1:9/fhir')).expect(400);
  });

  test('When the clients file lists fhir_servers for a client, they are accepted as URLs', () => {
    const parsed = CdsClientSchema.parse({
      iss: 'https://ehr.example.org',
      jwks_url: 'https://ehr.example.org/jwks.json',
      fhir_servers: ['https://ehr.example.org/fhir/r4'],
    });
    expect(parsed.fhir_servers).toEqual(['https://ehr.example.org/fhir/r4']);
  });

  test('When the FHIR server cannot be reached, the 412 says what is missing and the network detail goes only to the log', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .times(2)
      .replyWithError(
        Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443'), { code: 'ECONNREFUSED' }),
      );
    const { app, logLines } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(needsFetchFrom(HAPI_BASE)).expect(412);

    const body = JSON.stringify(res.body);
    expect(body).toContain("could not obtain prefetch key 'labs'");
    expect(body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3/);
    expect(logLines.join('')).toMatch(/ECONNREFUSED/);
  });

  test('When the FHIR server answers 200 with a body that is not JSON, the parser message stays out of the 412', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(200, '{"resourceType": Bund');
    const { app, logLines } = await buildTestApp();

    const res = await request(app).post(HOOK_URL).send(needsFetchFrom(HAPI_BASE)).expect(412);

    expect(JSON.stringify(res.body)).toContain('is not JSON');
    expect(JSON.stringify(res.body)).not.toMatch(/Unexpected token|position \d+/);
    expect(logLines.join('')).toMatch(/Unexpected token|position \d+/);
  });
});

describe('FHIR responses are capped (FHIR_MAX_RESPONSE_BYTES)', () => {
  test('When a later page is larger than the cap, the search stops there and the result is tagged SUBSETTED', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'huge',
          offset: 0,
          resources: buildHapiObservations(1, 20),
          hasNext: true,
        }),
      )
      .get(HAPI_PATH)
      .query(hapiPageQuery('huge', 20))
      .reply(
        200,
        buildHapiPage({
          searchId: 'huge',
          offset: 20,
          resources: buildHapiObservations(21, 200),
          hasNext: false,
        }),
      );
    const { app, service, fhirCalls } = await buildTestApp({
      env: { FHIR_MAX_RESPONSE_BYTES: '20000' },
    });

    await request(app).post(HOOK_URL).send(needsFetchFrom(HAPI_BASE)).expect(200);

    const labs = service.invocations[0]?.data.labs as fhir4.Bundle | undefined;
    expect(labs?.entry).toHaveLength(20);
    expect(labs?.meta?.tag).toEqual([SUBSETTED_TAG]);
    expect(fhirCalls.map((call) => call.outcome)).toEqual(['ok', 'too_large']);
  });

  test('When the first page is larger than the cap, answers 412 naming the key, with no card from a partial read', async () => {
    nock(HAPI_ORIGIN)
      .get(`${HAPI_PATH}/Observation`)
      .query(true)
      .reply(
        200,
        buildHapiPage({
          searchId: 'h',
          offset: 0,
          resources: buildHapiObservations(1, 200),
          hasNext: false,
        }),
      );
    const { app, service } = await buildTestApp({ env: { FHIR_MAX_RESPONSE_BYTES: '20000' } });

    const res = await request(app).post(HOOK_URL).send(needsFetchFrom(HAPI_BASE)).expect(412);

    expect(res.body.issue[0].diagnostics).toMatch(/labs.*20000-byte response limit/);
    expect(service.invocations).toHaveLength(0);
  });

  test('When a body keeps streaming past the cap, the read is abandoned at the cap and the connection dropped', async () => {
    let sent = 0;
    let cut: () => void = () => undefined;
    const connectionCut = new Promise<void>((resolve) => (cut = resolve));
    // A server whose body never ends: only abandoning the read finishes the call before the timeout.
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      const pump = () => {
        while (
          !res.destroyed &&
          res.write('{"resourceType":"Bundle","padding":"'.padEnd(4096, 'a'))
        ) {
          sent += 4096;
        }
      };
      res.on('drain', pump);
      res.on('close', cut);
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const { port } = endless.address() as AddressInfo;
    const { app, fhirCalls } = await buildTestApp({
      env: {
        FHIR_SERVER_ALLOWLIST: '',
        FHIR_MAX_RESPONSE_BYTES: '20000',
        FHIR_TIMEOUT_MS: '60000',
        HOOK_DEADLINE_MS: '60000',
      },
    });

    try {
      await request(app)
        .post(HOOK_URL)
        .send(needsFetchFrom(`http://127.0.0.1:${port}/fhir`))
        .expect(412);
      await connectionCut;
      expect(fhirCalls.map((call) => call.outcome)).toEqual(['too_large']);
      expect(sent).toBeLessThan(16 * 1024 * 1024);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });
});

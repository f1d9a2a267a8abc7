import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { services } from '../../../hooks/index.js';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import { buildFullPrefetch, buildPatientViewBody, FIXED_NOW } from './hook-fixtures.js';
import { buildSigningKey, signClientToken } from './jwt-fixtures.js';
import type { SigningKey } from './jwt-fixtures.js';
import { captureLog } from './log-capture.js';
import type { CapturedLog } from './log-capture.js';

const BASE = 'http://cds.test';
const ISS = 'https://ehr.test';
const HOOK_PATH = '/cds-services/liver-trends';
const OPAQUE_FHIR_TOKEN = 'opaque-fhir-access-token-31d8e0';

async function buildOpsApp(
  env: Record<string, string>,
): Promise<{ app: Express; log: CapturedLog }> {
  const log = captureLog();
  const config = loadConfig({ EMBEDDED_FHIR: 'false', PUBLIC_BASE_URL: BASE, ...env });
  const { app } = await assembleService(config, {
    services,
    now: () => FIXED_NOW,
    logDestination: log,
    processMetrics: false,
  });
  return { app, log };
}

describe('operations wired into the app', () => {
  let key: SigningKey;
  let app: Express;
  let log: CapturedLog;

  beforeAll(async () => {
    key = await buildSigningKey('ES384');
    const dir = mkdtempSync(join(tmpdir(), 'cds-ops-'));
    const clientsFile = join(dir, 'clients.json');
    const { kid, publicJwk } = key;
    writeFileSync(
      clientsFile,
      JSON.stringify([
        {
          iss: ISS,
          jwks: { keys: [{ kty: 'EC', crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid }] },
        },
      ]),
    );
    ({ app, log } = await buildOpsApp({ CDS_CLIENTS_FILE: clientsFile, LOG_LEVEL: 'debug' }));
  });

  it('When CDS_CLIENTS_FILE is set, discovery stays public, hooks need a JWT and /healthz says "jwt"', async () => {
    const discovery = await request(app).get('/cds-services').expect(200);
    expect(discovery.body.services.map((s: { id: string }) => s.id)).toContain('liver-trends');
    await request(app).post(HOOK_PATH).send(buildPatientViewBody()).expect(401);
    await request(app)
      .post(`${HOOK_PATH}/feedback`)
      .send({ feedback: [] })
      .expect(401)
      .expect('WWW-Authenticate', 'Bearer');
    const health = await request(app).get('/healthz').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', auth: 'jwt' });
  });

  it('When a signed EHR call with full prefetch returns cards, /metrics counts the call and its cards', async () => {
    const token = await signClientToken(key, ISS, `${BASE}${HOOK_PATH}`);
    const res = await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(buildPatientViewBody({ prefetch: buildFullPrefetch() }))
      .expect(200);
    expect(res.body.cards.length).toBeGreaterThan(0);

    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toContain(
      'cds_http_requests_total{route="hook",service="liver-trends",status="200"} 1',
    );
    expect(metrics.text).toMatch(
      /cds_cards_returned_total\{service="liver-trends",indicator="\w+"\} [1-9]/,
    );
    expect(metrics.text).toMatch(
      /cds_http_requests_total\{route="hook",service="liver-trends",status="401"\} [1-9]/,
    );
  });

  it('When calls carry a bearer JWT and a FHIR access token, neither reaches the log stream', async () => {
    const token = await signClientToken(key, ISS, `${BASE}${HOOK_PATH}`);
    const body = buildPatientViewBody({
      prefetch: buildFullPrefetch(),
      fhirServer: 'http://127.0.0.1:9/fhir',
      accessToken: OPAQUE_FHIR_TOKEN,
    });
    await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(body)
      .expect(200);
    // A replay is refused and its reason logged, still without the token.
    await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(body)
      .expect(401);
    // A malformed body with tokens in odd places ends in a 400 line.
    await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${await signClientToken(key, ISS, `${BASE}${HOOK_PATH}`)}`)
      .send({ hook: 'patient-view', fhirAuthorization: { access_token: OPAQUE_FHIR_TOKEN } })
      .expect(400);

    const text = log.text();
    expect(text).toContain('jti was already used');
    expect(text).toContain(String(body.hookInstance));
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain(OPAQUE_FHIR_TOKEN);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('When CDS_CLIENTS_FILE is not set, the service runs open, warns loudly and /healthz says "open"', async () => {
    const open = await buildOpsApp({});
    await request(open.app)
      .post(HOOK_PATH)
      .send(buildPatientViewBody({ prefetch: buildFullPrefetch() }))
      .expect(200);
    const health = await request(open.app).get('/healthz').expect(200);
    expect(health.body.auth).toBe('open');
    const warning = open.log.lines().find((line) => line.level === 'warn');
    expect(warning?.msg).toMatch(/accept calls from ANYONE/);
  });

  it('When any route answers, security headers are set and no stack trace or framework name leaks', async () => {
    const res = await request(app)
      .post(HOOK_PATH)
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await signClientToken(key, ISS, `${BASE}${HOOK_PATH}`)}`)
      .send('{"hook": ')
      .expect(400);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).not.toMatch(/at .+\.(ts|js):\d+/);
    const home = await request(app).get('/no-such-page').expect(404);
    expect(home.headers['content-security-policy']).toContain("script-src 'self'");
    expect(home.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});

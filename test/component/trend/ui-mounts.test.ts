import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { InMemoryFeedbackStore } from '../../../src/stores/feedback-store.js';
import { createUiMounts } from '../../../src/trend/ui-mounts.js';

function buildApp(demo: boolean) {
  const ui = createUiMounts({
    publicBaseUrl: 'http://127.0.0.1:3000',
    trendLinkTtlSeconds: 900,
    demo,
  });
  return createApp({
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    services: [],
    feedbackStore: new InMemoryFeedbackStore(),
    trendLinks: ui.trendLinks,
    routers: ui.routers,
  });
}

describe('UI mounts', () => {
  it('When the embedded FHIR server is on, serves the demo EHR at / with a same-origin-only CSP', async () => {
    const res = await request(buildApp(true)).get('/').expect(200);
    expect(res.text).toContain('<h1>Demo EHR</h1>');
    const csp = res.headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // Plain-HTTP deployments on a LAN name must not have their same-origin scripts forced to https.
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(res.headers['cache-control']).toBe('no-store');
    await request(buildApp(true)).get('/assets/demo/demo-ehr.js').expect(200);
  });

  it('When the embedded FHIR server is off, there is no demo page and no demo script, but trend pages remain', async () => {
    const app = buildApp(false);
    await request(app).get('/').expect(404);
    await request(app).get('/assets/demo/demo-ehr.js').expect(404);
    const expired = await request(app)
      .get(`/trends/${'A'.repeat(32)}`)
      .expect(410);
    expect(expired.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('When the demo is mounted at /, its headers do not leak onto the JSON API', async () => {
    const res = await request(buildApp(true)).get('/cds-services').expect(200);
    expect(res.headers['content-security-policy']).toBeUndefined();
  });
});

describe('Demo flowsheet limits', () => {
  const patient = { resourceType: 'Patient', id: 'p', gender: 'female', birthDate: '1970-01-01' };
  const lab = (id: string, code: string, value: number, unit: string, high?: number) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: 'Patient/p' },
    effectiveDateTime: '2026-01-10T08:00:00Z',
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
    ...(high === undefined
      ? {}
      : {
          referenceRange: [
            { high: { value: high, unit, system: 'http://unitsofmeasure.org', code: unit } },
          ],
        }),
  });

  it('When the demo EHR posts a chart, each result gets its ULN in the reported unit: its own range, else the default', async () => {
    const res = await request(buildApp(true))
      .post('/demo/flowsheet-limits')
      .send({
        patient,
        observations: [
          lab('alp-own', '6768-6', 126, 'U/L', 129),
          {
            ...lab('alp-si', '6768-6', 3.0, 'ukat/L', 1.8),
            effectiveDateTime: '2026-01-20T08:00:00Z',
          },
          lab('ast-default', '1920-8', 93, 'U/L'),
          lab('tbil-at-limit', '1975-2', 1.2, 'mg/dL'),
        ],
      })
      .expect(200);
    expect(res.body.limits['alp-own']).toMatchObject({ uln: 129, above: false });
    expect(res.body.limits['alp-si']).toMatchObject({ uln: 1.8, above: true });
    expect(res.body.limits['ast-default']).toMatchObject({ above: true });
    expect(res.body.limits['ast-default'].ulnSource).not.toBe('reference-range');
    expect(res.body.limits['tbil-at-limit']).toMatchObject({ uln: 1.2, above: false });
  });

  it('When the body is not a patient and a list of Observations, answers 400 naming the problem', async () => {
    const res = await request(buildApp(true))
      .post('/demo/flowsheet-limits')
      .send({ observations: 'nope' })
      .expect(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('When the demo is off, there is no flowsheet-limits route', async () => {
    await request(buildApp(false)).post('/demo/flowsheet-limits').send({}).expect(404);
  });
});

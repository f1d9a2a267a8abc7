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

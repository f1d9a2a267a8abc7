import express from 'express';
import request from 'supertest';
import { InMemoryTrendLinkStore } from '../../../src/stores/trend-link-store.js';
import { createAssetsRouter } from '../../../src/trend/assets-router.js';
import { createTrendLinkPublisher } from '../../../src/trend/publisher.js';
import { createTrendRouter } from '../../../src/trend/trend-router.js';
import type { TrendSnapshot } from '../../../src/trend/trend-snapshot.js';
import { buildClassicShiftAssessment } from '../../browser/fixtures/assessment.js';

function buildTrendApp(now: () => number) {
  const store = new InMemoryTrendLinkStore<TrendSnapshot>({ maxEntries: 50, now });
  const app = express();
  app.use('/trends', createTrendRouter({ store }));
  app.use('/assets', createAssetsRouter({ includeDemo: false }));
  const publisher = createTrendLinkPublisher({
    store,
    publicBaseUrl: 'http://127.0.0.1',
    ttlMs: 900_000,
    now: () => new Date(now()),
  });
  return { app, publisher };
}

describe('GET /trends/:id', () => {
  let time = Date.parse('2026-06-01T12:00:00Z');
  const clock = (): number => time;

  it('When the link is fresh, serves the trend page uncached with every analyte table and no inline script', async () => {
    const { app, publisher } = buildTrendApp(clock);
    const url = await publisher.publish(buildClassicShiftAssessment(new Date(time)));
    const res = await request(app).get(new URL(url).pathname).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/text\/html/);
    for (const analyte of ['ALP', 'AST', 'ALT', 'GGT', 'TBIL']) {
      expect(res.text).toContain(`data-analyte="${analyte}"`);
    }
    expect(res.text).not.toContain('data-analyte="DBIL"');
    expect(res.text).toContain('<th scope="col">× ULN</th>');
    // Only src= scripts and the non-executable JSON block: nothing a script-src 'self' CSP would block.
    const scripts = res.text.match(/<script[^>]*>/g) ?? [];
    expect(scripts.every((tag) => tag.includes('src=') || tag.includes('application/json'))).toBe(
      true,
    );
  });

  it('When the TTL has passed, answers 410 with a page that says how to get a fresh link', async () => {
    const { app, publisher } = buildTrendApp(clock);
    const url = await publisher.publish(buildClassicShiftAssessment(new Date(time)));
    time += 900_001;
    const res = await request(app).get(new URL(url).pathname).expect(410);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('This trend link has expired');
    expect(res.text).toMatch(/re-open the patient/i);
  });

  it('When the id is malformed, answers 404 with the same friendly page and no stack trace', async () => {
    const { app } = buildTrendApp(clock);
    const res = await request(app).get('/trends/%3Cscript%3E').expect(404);
    expect(res.text).toContain('This trend link has expired');
    expect(res.text).not.toContain('<script>');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('When a payload carries markup, the page escapes it in the JSON block', async () => {
    const { app, publisher } = buildTrendApp(clock);
    const assessment = buildClassicShiftAssessment(new Date(time));
    assessment.dataQuality.push({ code: 'mixed-methods', message: '</script><img src=x>' });
    const url = await publisher.publish(assessment);
    const res = await request(app).get(new URL(url).pathname).expect(200);
    expect(res.text).not.toContain('</script><img');
    expect(res.text).toContain('&lt;/script&gt;&lt;img src=x&gt;');
  });

  it('When the chart library is requested, serves the bundled Chart.js build from the service itself', async () => {
    const { app } = buildTrendApp(clock);
    const res = await request(app).get('/assets/vendor/chart.umd.js').expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.text).toContain('Chart');
    await request(app).get('/assets/vendor/..%2Fpackage.json').expect(404);
    await request(app).get('/assets/trend/trend-page.js').expect(200);
    await request(app).get('/assets/demo/demo-ehr.js').expect(404);
  });
});

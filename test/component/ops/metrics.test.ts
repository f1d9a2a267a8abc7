import express from 'express';
import request from 'supertest';
import { createMetrics } from '../../../src/observability/metrics.js';

function buildApp() {
  const metrics = createMetrics({ serviceIds: ['liver-trends'], processMetrics: false });
  const app = express();
  app.use(metrics.middleware);
  app.use(express.json());
  app.get('/metrics', metrics.handler);
  app.get('/cds-services', (_req, res) => {
    res.json({ services: [] });
  });
  app.post('/cds-services/:id', (_req, res) => {
    metrics.observeFhirCall({ durationMs: 40, status: 200, outcome: 'ok' });
    metrics.observeFhirCall({ durationMs: 3000, outcome: 'timeout' });
    res.json({
      cards: [{ indicator: 'warning' }, { indicator: 'critical' }, { indicator: 'warning' }],
    });
  });
  app.post('/cds-services/:id/feedback', (_req, res) => {
    res.json({});
  });
  return { app, metrics };
}

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  it('When hooks, feedback and discovery are called, /metrics counts requests, cards, feedback and FHIR calls', async () => {
    const { app } = buildApp();
    await request(app).get('/cds-services').expect(200);
    await request(app).post('/cds-services/liver-trends').send({}).expect(200);
    await request(app)
      .post('/cds-services/liver-trends/feedback')
      .send({
        feedback: [
          { card: 'a', outcome: 'accepted' },
          { card: 'b', outcome: 'overridden' },
          { card: 'c', outcome: 'overridden' },
        ],
      })
      .expect(200);

    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.text;
    expect(
      sampleValue(
        text,
        'cds_http_requests_total{route="hook",service="liver-trends",status="200"}',
      ),
    ).toBe(1);
    expect(
      sampleValue(text, 'cds_http_requests_total{route="discovery",service="",status="200"}'),
    ).toBe(1);
    expect(
      sampleValue(
        text,
        'cds_http_request_duration_seconds_count{route="hook",service="liver-trends",status="200"}',
      ),
    ).toBe(1);
    expect(
      sampleValue(text, 'cds_cards_returned_total{service="liver-trends",indicator="warning"}'),
    ).toBe(2);
    expect(
      sampleValue(text, 'cds_cards_returned_total{service="liver-trends",indicator="critical"}'),
    ).toBe(1);
    expect(
      sampleValue(text, 'cds_feedback_total{service="liver-trends",outcome="overridden"}'),
    ).toBe(2);
    expect(sampleValue(text, 'cds_fhir_request_duration_seconds_count{outcome="ok"}')).toBe(1);
    expect(
      sampleValue(text, 'cds_fhir_request_failures_total{outcome="timeout",status="none"}'),
    ).toBe(1);
  });

  it('When callers invent service ids, they are all counted under one "unknown" label', async () => {
    const { app } = buildApp();
    for (const id of ['a', 'b', 'c']) {
      await request(app).post(`/cds-services/${id}`).send({}).expect(200);
    }
    const text = (await request(app).get('/metrics')).text;
    expect(
      sampleValue(text, 'cds_http_requests_total{route="hook",service="unknown",status="200"}'),
    ).toBe(3);
    expect(text).not.toContain('service="a"');
    expect(text).not.toMatch(/cds_cards_returned_total\{service="unknown"/);
  });

  it('When two apps run in one process, their counters stay separate', async () => {
    const first = buildApp();
    const second = buildApp();
    await request(first.app).get('/cds-services').expect(200);
    const text = await second.metrics.registry.metrics();
    expect(text).not.toContain('cds_http_requests_total{');
  });
});

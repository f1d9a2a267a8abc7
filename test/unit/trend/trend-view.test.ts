import { createTrendLinkPublisher } from '../../../src/trend/publisher.js';
import { InMemoryTrendLinkStore } from '../../../src/stores/trend-link-store.js';
import {
  buildTrendView,
  fitTrendLine,
  TrendAssessmentSchema,
  type TrendView,
} from '../../../src/trend/trend-view.js';
import { buildAssessment, buildClassicShiftAssessment } from '../../browser/fixtures/assessment.js';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('buildTrendView', () => {
  it('When the engine saw the classic shift, charts every analyte with results and none without', () => {
    const assessment = buildClassicShiftAssessment(NOW);
    const view = buildTrendView(TrendAssessmentSchema.parse(assessment), NOW);
    expect(view.series.map((s) => s.analyte)).toEqual(['ALP', 'AST', 'ALT', 'GGT', 'TBIL']);
    expect(view.rRatio.first?.patternClass).toBe('hepatocellular');
    expect(view.rRatio.last?.patternClass).toBe('cholestatic');
    expect(view.divergence).toBe(true);
  });

  it('When it copies the assessment for the link cache, leaves out the patient id and Observation ids', () => {
    const assessment = buildClassicShiftAssessment(NOW);
    const json = JSON.stringify(buildTrendView(TrendAssessmentSchema.parse(assessment), NOW));
    expect(json).not.toContain('fixture-patient');
    expect(json).not.toContain('obs-alp-0');
  });

  it('When points arrive newest first, orders them by time for the chart and table', () => {
    const assessment = buildClassicShiftAssessment(NOW);
    assessment.series.ALP.points.reverse();
    const view = buildTrendView(TrendAssessmentSchema.parse(assessment), NOW);
    const times = view.series[0].points.map((p) => Date.parse(p.time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('fitTrendLine', () => {
  it('When values grow exactly exponentially, the fitted ends sit on the first and last values', () => {
    const points = [0, 30, 60, 90].map((day) => ({
      time: new Date(NOW.getTime() + day * 86_400_000).toISOString(),
      value: 0,
      uln: 100,
      xUln: 1.5 * 1.2 ** (day / 30),
    }));
    const fit = fitTrendLine(points, 20);
    expect(fit?.[0].xUln).toBeCloseTo(1.5, 6);
    expect(fit?.[1].xUln).toBeCloseTo(1.5 * 1.2 ** 3, 6);
  });

  it('When the engine fitted no slope, draws no line', () => {
    const view = buildTrendView(
      TrendAssessmentSchema.parse(
        buildAssessment({ now: NOW, daysAgo: [20, 10], values: { ALP: [200, 240] } }),
      ),
      NOW,
    );
    expect(view.series[0].fitted).toBeNull();
  });
});

describe('createTrendLinkPublisher', () => {
  it('When a card publishes an assessment, returns a URL under PUBLIC_BASE_URL with a random id and no patient id', async () => {
    const store = new InMemoryTrendLinkStore<TrendView>({ maxEntries: 10 });
    const publisher = createTrendLinkPublisher({
      store,
      publicBaseUrl: 'https://cds.example.org/',
      ttlMs: 900_000,
      now: () => NOW,
    });
    const url = await publisher.publish(buildClassicShiftAssessment(NOW));
    expect(url).toMatch(/^https:\/\/cds\.example\.org\/trends\/[A-Za-z0-9_-]{32}$/);
    expect(url).not.toContain('fixture-patient');
    const stored = await store.get(url.split('/').pop() ?? '');
    expect(stored?.expiresAt).toBe(new Date(NOW.getTime() + 900_000).toISOString());
  });

  it('When the payload is not an assessment, rejects with the offending paths', async () => {
    const publisher = createTrendLinkPublisher({
      store: new InMemoryTrendLinkStore<TrendView>({ maxEntries: 10 }),
      publicBaseUrl: 'http://127.0.0.1:3000',
      ttlMs: 1000,
    });
    await expect(publisher.publish({ series: 'nope' })).rejects.toThrow(/not an Assessment/);
  });
});

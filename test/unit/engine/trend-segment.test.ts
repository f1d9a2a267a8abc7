import { computeTrend } from '../../../src/engine/trend.js';
import type { LabPoint } from '../../../src/engine/types.js';
import { ANALYTES } from '../../../src/terminology/analytes.js';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** Results every 14 days from T0, ULN 100. */
function series(values: readonly number[]): LabPoint[] {
  return values.map((value, i) => ({
    observationId: `p${i}`,
    loinc: '6768-6',
    time: new Date(T0 + i * 14 * DAY_MS).toISOString(),
    timeMs: T0 + i * 14 * DAY_MS,
    value,
    unit: 'U/L',
    uln: 100,
    ulnSource: 'reference-range',
    xUln: value / 100,
  }));
}

describe('recent regime after a long history (change of course)', () => {
  it.each([
    [
      'months falling, then a sharp rise',
      [400, 350, 300, 260, 220, 190, 160, 230, 330],
      'rising',
      'falling',
      6,
    ],
    [
      'months rising, then a sharp fall',
      [60, 80, 100, 125, 150, 180, 210, 140, 90],
      'falling',
      'rising',
      6,
    ],
  ] as const)(
    'When %s, the recent segment is reported with its dates',
    (_story, values, direction, before, turn) => {
      const { trend, used } = computeTrend(series(values), ANALYTES.ALP.biologicalVariation);
      expect(trend.direction).toBe(direction);
      expect(trend.recentSegment?.earlier.direction).toBe(before);
      expect(trend.recentSegment?.from).toBe(new Date(T0 + turn * 14 * DAY_MS).toISOString());
      expect(trend.recentSegment?.to).toBe(
        new Date(T0 + (values.length - 1) * 14 * DAY_MS).toISOString(),
      );
      expect(trend.pointCount).toBe(values.length - turn);
      expect(used.map((p) => p.observationId)).toEqual(
        values.slice(turn).map((_v, i) => `p${turn + i}`),
      );
    },
  );

  it('When months flat end in a sharp rise that one fit over the window already calls rising, nothing is split', () => {
    const values = [150, 152, 149, 151, 150, 148, 150, 210, 300];
    const { trend } = computeTrend(series(values), ANALYTES.ALP.biologicalVariation);
    expect(trend.direction).toBe('rising');
    expect(trend.recentSegment).toBeUndefined();
  });

  it.each([
    ['a steady exponential rise', [100, 120, 144, 173, 207, 249, 299]],
    ['a flat series whose last value alone is high', [150, 152, 149, 151, 150, 148, 150, 151, 240]],
    [
      'a recent rise within the reference change value',
      [150, 152, 149, 151, 150, 148, 150, 158, 165],
    ],
    ['too few results to split', [300, 250, 200, 300]],
  ] as const)('When %s, no segment is split off', (_story, values) => {
    const { trend } = computeTrend(series(values), ANALYTES.ALP.biologicalVariation);
    expect(trend.recentSegment).toBeUndefined();
  });
});

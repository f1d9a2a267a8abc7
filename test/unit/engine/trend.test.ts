import fc from 'fast-check';
import { ANALYTES } from '../../../src/terminology/analytes.js';
import {
  MAX_FIT_POINTS,
  computeRcv,
  computeTrend,
  fitTheilSen,
} from '../../../src/engine/trend.js';
import type { LabPoint } from '../../../src/engine/types.js';

const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function point(day: number, value: number, censored?: LabPoint['censored']): LabPoint {
  return {
    observationId: `p${day}`,
    loinc: '6768-6',
    time: new Date(T0 + day * DAY_MS).toISOString(),
    timeMs: T0 + day * DAY_MS,
    value,
    unit: 'U/L',
    uln: 100,
    ulnSource: 'reference-range',
    xUln: value / 100,
    ...(censored === undefined ? {} : { censored }),
  };
}

describe('reference change value', () => {
  it.each([
    // reference.md §3b, log-normal 95 % column (Z = 1.96), CVA 5 %.
    ['ALT', 33.9, -25.3],
    ['AST', 34.5, -25.7],
    ['GGT', 32.6, -24.6],
    ['ALP', 22.3, -18.3],
  ] as const)(
    'When %s is computed with Z = 1.96 it matches the clinical reference table',
    (a, up, down) => {
      const rcv = computeRcv(ANALYTES[a].biologicalVariation, 1.96);
      expect(rcv.upPct).toBeCloseTo(up, 1);
      expect(rcv.downPct).toBeCloseTo(down, 1);
    },
  );

  it('When the one-sided Z of 1.645 is used, the limits are narrower and still asymmetric', () => {
    const rcv = computeRcv(ANALYTES.ALP.biologicalVariation);
    expect(rcv.upPct).toBeCloseTo(18.4, 1);
    expect(rcv.downPct).toBeCloseTo(-15.6, 1);
    expect((1 + rcv.upPct / 100) * (1 + rcv.downPct / 100)).toBeCloseTo(1, 12);
  });
});

describe('Theil–Sen slope', () => {
  it('When values double every 30 days, the slope is ln 2 per 30 days whatever the spacing', () => {
    const days = [0, 3, 17, 40, 41, 90];
    const slope = fitTheilSen(
      days.map((d) => T0 + d * DAY_MS),
      days.map((d) => 100 * 2 ** (d / 30)),
    );
    expect(slope * 30).toBeCloseTo(Math.LN2, 10);
  });

  it('When one value is a wild outlier, the slope follows the others', () => {
    const days = [0, 10, 20, 30, 40];
    const values = [100, 110, 5000, 133.1, 146.41];
    const slope = fitTheilSen(
      days.map((d) => T0 + d * DAY_MS),
      values,
    );
    expect(slope * 10).toBeCloseTo(Math.log(1.1), 2);
  });
});

describe('computeTrend', () => {
  const alp = ANALYTES.ALP.biologicalVariation;

  it('When a rise is steady but smaller than the RCV, the direction is stable', () => {
    const { trend } = computeTrend([point(0, 100), point(30, 105), point(60, 110)], alp);
    expect(trend.method).toBe('theil-sen');
    expect(trend.slopePctPer30d).toBeGreaterThan(0);
    expect(trend.direction).toBe('stable');
  });

  it('When first and last differ beyond the RCV but the slope points the other way, it is stable', () => {
    // Last point high, but the bulk of the series falls.
    const { trend } = computeTrend(
      [point(0, 100), point(10, 90), point(20, 80), point(30, 70), point(40, 130)],
      alp,
    );
    expect(trend.changePct).toBeCloseTo(30, 10);
    expect(trend.slopePctPer30d).toBeLessThan(0);
    expect(trend.direction).toBe('stable');
  });

  it('When a rise exceeds the RCV with a positive slope, the direction is rising with % per 30 days', () => {
    const { trend } = computeTrend([point(0, 100), point(30, 130), point(60, 169)], alp);
    expect(trend).toMatchObject({ direction: 'rising', pointCount: 3, spanDays: 60 });
    expect(trend.slopePctPer30d).toBeCloseTo(30, 8);
    expect(trend.changePct).toBeCloseTo(69, 8);
  });

  it('When only censored points remain besides one exact point, the trend is insufficient', () => {
    const { trend } = computeTrend([point(0, 5, '<'), point(10, 5, '<'), point(20, 100)], alp);
    expect(trend).toMatchObject({ direction: 'insufficient', method: 'none', pointCount: 1 });
  });

  it(`When a series is longer than ${MAX_FIT_POINTS} points, only the most recent ${MAX_FIT_POINTS} are fitted`, () => {
    const points = Array.from({ length: MAX_FIT_POINTS + 50 }, (_, i) =>
      point(i, i < 50 ? 1000 : 100 * 1.01 ** (i - 50)),
    );
    const { trend, used } = computeTrend(points, alp);
    expect(used).toHaveLength(MAX_FIT_POINTS);
    expect(used[0]?.observationId).toBe('p50');
    expect(trend.direction).toBe('rising');
  });
});

describe('Theil–Sen median selection', () => {
  it('When random series are fitted, the slope equals the median of sorted pairwise slopes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2000 }), { minLength: 2, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 40, maxLength: 40 }),
        (days, values) => {
          const times = days.map((d) => T0 + d * DAY_MS);
          const ys = days.map((_, i) => values[i]!);
          const slopes: number[] = [];
          for (let i = 0; i < times.length; i++) {
            for (let j = i + 1; j < times.length; j++) {
              slopes.push(
                (Math.log(ys[j]!) - Math.log(ys[i]!)) / ((times[j]! - times[i]!) / DAY_MS),
              );
            }
          }
          slopes.sort((a, b) => a - b);
          const mid = slopes.length >> 1;
          const expected =
            slopes.length % 2 === 1 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
          expect(fitTheilSen(times, ys)).toBeCloseTo(expected, 12);
        },
      ),
      { numRuns: 300 },
    );
  });
});

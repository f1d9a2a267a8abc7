import type { BiologicalVariation } from '../terminology/analytes.js';
import type { Direction, LabPoint, Trend } from './types.js';

const DAY_MS = 86_400_000;

/** One-sided 95 %: the question is directional ("has ALP risen?"), reference.md §3b. */
export const RCV_Z = 1.645;

/**
 * A single series is fitted on at most its most recent points. Theil–Sen is quadratic in the points of
 * one series; 200 points (19 900 pairs) already cover daily results over the default look-back, and the
 * newest points are the ones the question is about.
 */
export const MAX_FIT_POINTS = 200;

export interface Rcv {
  upPct: number;
  downPct: number;
}

/**
 * Log-normal (asymmetric) reference change value, Fokkema 2006 [S17]:
 * σ = √ln(1 + CV²) with CV² = CVA² + CVI²; up = e^(+√2·Z·σ) − 1, down = e^(−√2·Z·σ) − 1.
 */
export function computeRcv(variation: BiologicalVariation, z = RCV_Z): Rcv {
  const cva = variation.cvaPct / 100;
  const cvi = variation.cviPct / 100;
  const sigma = Math.sqrt(Math.log(1 + cva * cva + cvi * cvi));
  const k = Math.SQRT2 * z * sigma;
  return { upPct: (Math.exp(k) - 1) * 100, downPct: (Math.exp(-k) - 1) * 100 };
}

/** k-th smallest value (0-based) by Hoare selection: linear on average, reorders `values`. */
function selectKth(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) {
        i++;
      }
      while (values[j] > pivot) {
        j--;
      }
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) {
      hi = j;
    } else if (k >= i) {
      lo = i;
    } else {
      return values[k];
    }
  }
  return values[k];
}

function selectMedian(values: Float64Array): number {
  const mid = values.length >> 1;
  const upper = selectKth(values, mid);
  if (values.length % 2 === 1) {
    return upper;
  }
  // After selection everything left of `mid` is ≤ the upper median; the lower median is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) {
    if (values[i] > lower) {
      lower = values[i];
    }
  }
  return (lower + upper) / 2;
}

/**
 * Theil–Sen slope of ln(value) (the engine passes ×ULN) against time in days: the median of all pairwise slopes. Uses the real
 * sample times, so irregular sampling needs no resampling, and one outlier cannot swing it.
 */
export function fitTheilSen(timesMs: readonly number[], values: readonly number[]): number {
  const n = timesMs.length;
  const logs = values.map(Math.log);
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dt = (timesMs[j] - timesMs[i]) / DAY_MS;
      if (dt !== 0) {
        slopes[count++] = (logs[j] - logs[i]) / dt;
      }
    }
  }
  return count === 0 ? 0 : selectMedian(slopes.subarray(0, count));
}

function decideDirection(changePct: number, slope: number, rcv: Rcv): Direction {
  if (changePct > rcv.upPct && slope > 0) {
    return 'rising';
  }
  if (changePct < rcv.downPct && slope < 0) {
    return 'falling';
  }
  return 'stable';
}

export interface TrendResult {
  trend: Trend;
  /** The points the trend was computed from (uncensored, most recent MAX_FIT_POINTS). */
  used: readonly LabPoint[];
}

/**
 * Trend of one time-sorted series inside the look-back window, computed on ×ULN so that results
 * measured against different ULNs (methods, labs, catalogue versions) compare like with like.
 *
 * Censored results (`<`, `>`) stay in the series but are not fitted: their true value is unknown and
 * treating the bound as exact would bias the slope. Rules: fewer than 2 exact points → insufficient;
 * 2 points → the change is reported (and whether it exceeds the RCV), but two results are not a trend,
 * so the direction stays insufficient; 3 or more → rising/falling only when the first-to-last change
 * exceeds the direction's RCV AND the Theil–Sen slope has the same sign, else stable.
 */
export function computeTrend(
  points: readonly LabPoint[],
  variation: BiologicalVariation,
): TrendResult {
  const rcv = computeRcv(variation);
  const exact = points.filter((p) => p.censored === undefined);
  const used = exact.length > MAX_FIT_POINTS ? exact.slice(-MAX_FIT_POINTS) : exact;
  const base: Trend = {
    direction: 'insufficient',
    method: 'none',
    pointCount: used.length,
    spanDays: 0,
    slopePctPer30d: null,
    changePct: null,
    rcvUpPct: rcv.upPct,
    rcvDownPct: rcv.downPct,
  };
  if (used.length < 2) {
    return { trend: base, used };
  }
  const first = used[0];
  const last = used[used.length - 1];
  const times = used.map((p) => p.timeMs);
  const spanDays = (times[times.length - 1] - times[0]) / DAY_MS;
  // In multiples of each result's own ULN: a method, lab or catalogue change moves U/L but not ×ULN
  // (reference.md §3c). With one ULN throughout this is the same change as in U/L.
  const changePct = (last.xUln / first.xUln - 1) * 100;
  const ulnChanged = used.some((p) => p.uln !== first.uln);
  const changeExceedsRcv = changePct > rcv.upPct || changePct < rcv.downPct;
  if (used.length === 2) {
    return {
      trend: { ...base, method: 'two-point', spanDays, changePct, changeExceedsRcv, ulnChanged },
      used,
    };
  }
  const slope = fitTheilSen(
    times,
    used.map((p) => p.xUln),
  );
  return {
    trend: {
      ...base,
      direction: decideDirection(changePct, slope, rcv),
      method: 'theil-sen',
      spanDays,
      slopePctPer30d: (Math.exp(slope * 30) - 1) * 100,
      changePct,
      changeExceedsRcv,
      ulnChanged,
    },
    used,
  };
}

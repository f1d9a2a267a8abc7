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

/** A recent regime is looked for only with at least this many exact results (3 before, 3 since, sharing the turning point). */
export const MIN_POINTS_FOR_SEGMENT = 5;

/**
 * How much better two lines must fit ln(×ULN) than one, in noise variances, before a turning point is
 * believed: about the 0.1 % tail of χ² with 2 degrees of freedom (the second line's slope and level),
 * which also covers the search over every candidate turning point. The noise variance is the larger
 * of the residual variance and ln(1 + CVA² + CVI²), so a smooth series is not split on rounding.
 */
export const SEGMENT_MIN_GAIN = 14;

/**
 * Trend of one time-sorted series inside the look-back window, computed on ×ULN so that results
 * measured against different ULNs (methods, labs, catalogue versions) compare like with like.
 *
 * Censored results (`<`, `>`) stay in the series but are not fitted: their true value is unknown and
 * treating the bound as exact would bias the slope. Rules: fewer than 2 exact points → insufficient;
 * 2 points → the change is reported (and whether it exceeds the RCV), but two results are not a trend,
 * so the direction stays insufficient; 3 or more → rising/falling only when the first-to-last change
 * exceeds the direction's RCV AND the Theil–Sen slope has the same sign, else stable.
 *
 * One slope over a long window can hide a recent change of course (months flat or falling, then a
 * sharp rise), so with MIN_POINTS_FOR_SEGMENT or more results the most recent regime is looked for
 * (findRecentSegment); when there is one, the trend reported is that segment's, with its dates, and
 * the earlier regime is kept beside it.
 */
export function computeTrend(
  points: readonly LabPoint[],
  variation: BiologicalVariation,
): TrendResult {
  const rcv = computeRcv(variation);
  const exact = points.filter((p) => p.censored === undefined);
  const used = exact.length > MAX_FIT_POINTS ? exact.slice(-MAX_FIT_POINTS) : exact;
  const whole = fitWindow(used, rcv);
  const turn = findRecentSegment(used, rcv, variation, whole.direction);
  if (turn === null) {
    return { trend: whole, used };
  }
  const recent = used.slice(turn.index);
  const earlier = used.slice(0, turn.index + 1);
  return {
    trend: {
      ...turn.trend,
      recentSegment: {
        from: recent[0].time,
        to: recent[recent.length - 1].time,
        earlier: {
          direction: turn.earlier.direction,
          slopePctPer30d: turn.earlier.slopePctPer30d,
          from: earlier[0].time,
          to: earlier[earlier.length - 1].time,
          pointCount: earlier.length,
        },
        wholeWindowDirection: whole.direction,
      },
    },
    used: recent,
  };
}

/** The trend of one run of exact, time-sorted points (see computeTrend for the rules). */
function fitWindow(used: readonly LabPoint[], rcv: Rcv): Trend {
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
    return base;
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
    return { ...base, method: 'two-point', spanDays, changePct, changeExceedsRcv, ulnChanged };
  }
  const slope = fitTheilSen(
    times,
    used.map((p) => p.xUln),
  );
  return {
    ...base,
    direction: decideDirection(changePct, slope, rcv),
    method: 'theil-sen',
    spanDays,
    slopePctPer30d: (Math.exp(slope * 30) - 1) * 100,
    changePct,
    changeExceedsRcv,
    ulnChanged,
  };
}

/** Prefix sums for least-squares lines over any run [i, j] of the points in O(1). */
class LineSums {
  private readonly s: Float64Array[];

  constructor(t: readonly number[], y: readonly number[]) {
    const n = t.length;
    this.s = [0, 1, 2, 3, 4, 5].map(() => new Float64Array(n + 1));
    const [c, st, sy, stt, syy, sty] = this.s;
    for (let i = 0; i < n; i++) {
      c[i + 1] = c[i] + 1;
      st[i + 1] = st[i] + t[i];
      sy[i + 1] = sy[i] + y[i];
      stt[i + 1] = stt[i] + t[i] * t[i];
      syy[i + 1] = syy[i] + y[i] * y[i];
      sty[i + 1] = sty[i] + t[i] * y[i];
    }
  }

  /** Residual sum of squares of the least-squares line through points i..j inclusive. */
  sse(i: number, j: number): number {
    const [c, st, sy, stt, syy, sty] = this.s.map((a) => a[j + 1] - a[i]);
    const sxx = stt - (st * st) / c;
    const syyc = syy - (sy * sy) / c;
    const sxy = sty - (st * sy) / c;
    return Math.max(0, sxx > 0 ? syyc - (sxy * sxy) / sxx : syyc);
  }
}

interface RecentTurn {
  /** Index of the turning point: the last result of the earlier regime and the first of the recent one. */
  index: number;
  trend: Trend;
  earlier: Trend;
}

/**
 * The most recent regime of a series, when it differs from what one slope over the whole window says.
 * Design: two least-squares lines on ln(×ULN), joined at a turning point shared by both, are tried at
 * every result that leaves at least 3 results on each side; the best split must fit better than one
 * line by SEGMENT_MIN_GAIN noise variances. The recent segment then counts only if, by the usual
 * rule, it is rising or falling (change beyond the RCV, Theil–Sen slope of the same sign), in a
 * direction the whole-window fit does not report, and its last two results both lie beyond the RCV
 * from the turning point (so one outlying last value is not a new regime).
 */
function findRecentSegment(
  used: readonly LabPoint[],
  rcv: Rcv,
  variation: BiologicalVariation,
  wholeDirection: Direction,
): RecentTurn | null {
  const n = used.length;
  if (n < MIN_POINTS_FOR_SEGMENT) {
    return null;
  }
  const t0 = used[0].timeMs;
  const t = used.map((p) => (p.timeMs - t0) / DAY_MS);
  const y = used.map((p) => Math.log(p.xUln));
  const sums = new LineSums(t, y);
  const oneLine = sums.sse(0, n - 1);
  let best = -1;
  let bestSse = Infinity;
  for (let k = 2; k <= n - 3; k++) {
    const sse = sums.sse(0, k) + sums.sse(k, n - 1);
    if (sse < bestSse) {
      bestSse = sse;
      best = k;
    }
  }
  const cva = variation.cvaPct / 100;
  const cvi = variation.cviPct / 100;
  const noiseFloor = Math.log(1 + cva * cva + cvi * cvi);
  // n + 1 residuals (the turning point is fitted twice), 4 parameters.
  const noise = Math.max(noiseFloor, bestSse / Math.max(1, n - 3));
  if (best < 0 || (oneLine - bestSse) / noise < SEGMENT_MIN_GAIN) {
    return null;
  }
  const recent = used.slice(best);
  const trend = fitWindow(recent, rcv);
  if (trend.direction !== 'rising' && trend.direction !== 'falling') {
    return null;
  }
  if (trend.direction === wholeDirection) {
    return null;
  }
  const turnX = used[best].xUln;
  const beyond = (p: LabPoint) => {
    const change = (p.xUln / turnX - 1) * 100;
    return trend.direction === 'rising' ? change > rcv.upPct : change < rcv.downPct;
  };
  if (!beyond(used[n - 1]) || !beyond(used[n - 2])) {
    return null;
  }
  return { index: best, trend, earlier: fitWindow(used.slice(0, best + 1), rcv) };
}

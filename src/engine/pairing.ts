import type { LabPoint } from './types.js';

/**
 * Two results count as drawn together when their specimen times are at most 24 h apart: panels are
 * often split across draws on the same day, and over 24 h ALT (half-life ~36–47 h) and ALP move
 * little. The nearest partner wins; an exact tie goes to the earlier partner.
 */
export const PAIRING_TOLERANCE_MS = 24 * 3_600_000;

export interface PointPair {
  a: LabPoint;
  b: LabPoint;
  /** The later of the two specimen times. */
  time: string;
}

function findNearest(times: readonly number[], target: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo === 0) {
    return 0;
  }
  if (lo === times.length) {
    return lo - 1;
  }
  return target - times[lo - 1] <= times[lo] - target ? lo - 1 : lo;
}

/**
 * Pairs each exact (uncensored) point of `a` with the nearest exact point of `b` within the tolerance;
 * both inputs are sorted by time, the result is in `a`'s order. Censored values are skipped: a ratio
 * of a bound is not a number to classify.
 */
export function pairPoints(
  a: readonly LabPoint[],
  b: readonly LabPoint[],
  toleranceMs = PAIRING_TOLERANCE_MS,
): PointPair[] {
  const exactB = b.filter((p) => p.censored === undefined);
  if (exactB.length === 0) {
    return [];
  }
  const timesB = exactB.map((p) => p.timeMs);
  const pairs: PointPair[] = [];
  for (const pointA of a) {
    if (pointA.censored !== undefined) {
      continue;
    }
    const timeA = pointA.timeMs;
    const index = findNearest(timesB, timeA);
    const timeB = timesB[index];
    if (Math.abs(timeB - timeA) <= toleranceMs) {
      const pointB = exactB[index];
      pairs.push({ a: pointA, b: pointB, time: timeA >= timeB ? pointA.time : pointB.time });
    }
  }
  return pairs;
}

import { ANALYTES } from '../terminology/analytes.js';
import type { Reading } from './read-observation.js';
import { computeTrend } from './trend.js';
import { formatInstant } from './instant.js';
import { resolveUln } from './uln.js';
import type {
  AdministrativeSex,
  Analyte,
  AnalyteSeries,
  ExcludedResult,
  LabPoint,
} from './types.js';

export interface SeriesContext {
  sex: AdministrativeSex;
  /** Completed years at an instant (a result's specimen time), null when the birth date is unknown. */
  ageAt: (timeMs: number) => number | null;
  windowStartMs: number;
  nowMs: number;
}

export interface BuiltSeries {
  series: AnalyteSeries;
  /** Points the trend was fitted on (see computeTrend). */
  trendPoints: readonly LabPoint[];
  excluded: ExcludedResult[];
}

/**
 * Which of two results for the same analyte at the same instant is kept: the higher status rank
 * (corrected/amended over final), then the later `issued`, then the later `meta.lastUpdated`; the
 * observation id and the value only break exact ties, so that the result never depends on input order.
 */
function compareForDedupe(x: Reading, y: Reading): number {
  return (
    y.statusRank - x.statusRank ||
    y.issuedMs - x.issuedMs ||
    y.lastUpdatedMs - x.lastUpdatedMs ||
    (x.observationId < y.observationId ? -1 : x.observationId > y.observationId ? 1 : 0) ||
    y.value - x.value
  );
}

function toLabPoint(reading: Reading, context: SeriesContext): LabPoint {
  const { uln, ulnSource, defaultInterval, rejectedUln } = resolveUln(
    reading.observation,
    reading.reportedUnit,
    reading.analyte,
    reading.kind,
    context.sex,
    context.ageAt(reading.timeMs),
  );
  const point: LabPoint = {
    observationId: reading.observationId,
    loinc: reading.loinc,
    time: formatInstant(reading.timeMs),
    timeMs: reading.timeMs,
    value: reading.value,
    unit: ANALYTES[reading.analyte].canonicalUnit,
    uln,
    ulnSource,
    xUln: reading.value / uln,
    reported: { value: reading.reportedValue, unit: reading.reportedUnit },
  };
  if (reading.censored !== undefined) {
    point.censored = reading.censored;
  }
  if (defaultInterval !== undefined) {
    point.defaultInterval = defaultInterval;
  }
  if (rejectedUln !== undefined) {
    point.rejectedUln = rejectedUln;
  }
  return point;
}

/**
 * One analyte's readings → its series: results after `now` are excluded, results before the look-back
 * window are left out, same-instant duplicates are reduced to one (see compareForDedupe), then each
 * point gets its ULN and the series its trend.
 */
export function buildSeries(
  analyte: Analyte,
  readings: readonly Reading[],
  context: SeriesContext,
): BuiltSeries {
  const excluded: ExcludedResult[] = [];
  const inWindow: Reading[] = [];
  for (const reading of readings) {
    if (reading.timeMs > context.nowMs) {
      excluded.push({
        observationId: reading.observationId,
        analyte,
        reason: 'specimen time is after the evaluation time',
      });
    } else if (reading.timeMs >= context.windowStartMs) {
      inWindow.push(reading);
    }
  }
  inWindow.sort((x, y) => x.timeMs - y.timeMs || compareForDedupe(x, y));

  const points: LabPoint[] = [];
  let kept: Reading | undefined;
  for (const reading of inWindow) {
    if (kept !== undefined && kept.timeMs === reading.timeMs) {
      excluded.push({
        observationId: reading.observationId,
        analyte,
        reason: `duplicate: another ${analyte} result (${kept.observationId}) has the same time`,
      });
      continue;
    }
    kept = reading;
    points.push(toLabPoint(reading, context));
  }

  const { trend, used } = computeTrend(points, ANALYTES[analyte].biologicalVariation);
  return {
    series: {
      analyte,
      unit: ANALYTES[analyte].canonicalUnit,
      points,
      latest: points.at(-1) ?? null,
      trend,
    },
    trendPoints: used,
    excluded,
  };
}

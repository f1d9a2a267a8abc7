import { ANALYTE_LIST } from '../terminology/analytes.js';
import type { Analyte, AnalyteSeries, DataQualityNote, ExcludedResult } from './types.js';

/** A latest result older than this is flagged: the picture may have moved on since. */
export const STALE_AFTER_DAYS = 30;

/** The analytes a trend is needed for (the divergence question). */
const TREND_ANALYTES: readonly Analyte[] = ['ALP', 'AST', 'ALT'];

const DAY_MS = 86_400_000;

function summariseReasons(excluded: readonly ExcludedResult[]): string {
  const counts = new Map<string, number>();
  for (const e of excluded) {
    counts.set(e.reason, (counts.get(e.reason) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, n]) => `${n} × ${reason}`)
    .join('; ');
}

function noteMixedMethods(s: AnalyteSeries): DataQualityNote | null {
  const codes = new Set(s.points.map((p) => p.loinc));
  const limits = new Set(s.points.map((p) => p.uln));
  if (codes.size <= 1 && limits.size <= 1) {
    return null;
  }
  // Methods (e.g. with and without P-5'-P) and labs differ in level; a trend across them may be
  // partly a method change. The ×ULN values stay comparable.
  return {
    code: 'mixed-methods',
    analyte: s.analyte,
    message:
      `${s.analyte} results come from ${codes.size} LOINC code(s) (${[...codes].sort().join(', ')}) ` +
      `with ${limits.size} different upper limit(s) of normal; compare them as multiples of ULN.`,
  };
}

function noteImplausibleRanges(s: AnalyteSeries): DataQualityNote | null {
  const rejected = s.points.filter((p) => p.rejectedUln !== undefined);
  if (rejected.length === 0) {
    return null;
  }
  const limits = [...new Set(rejected.map((p) => p.rejectedUln))].sort(
    (a, b) => (a ?? 0) - (b ?? 0),
  );
  return {
    code: 'implausible-reference-range',
    analyte: s.analyte,
    message:
      `${rejected.length} ${s.analyte} result(s) came with an implausible upper limit of normal ` +
      `(${limits.join(', ')} ${s.unit}); the default limit (${rejected[0]?.uln ?? ''} ${s.unit}) was used instead.`,
  };
}

export function buildDataQuality(
  series: Readonly<Record<Analyte, AnalyteSeries>>,
  excluded: readonly ExcludedResult[],
  now: Date,
): DataQualityNote[] {
  const notes: DataQualityNote[] = [];
  const hasData = ANALYTE_LIST.some((a) => series[a].points.length > 0);
  if (!hasData) {
    notes.push({
      code: 'no-data',
      message:
        excluded.length > 0
          ? `No usable liver chemistry results in the look-back window (${excluded.length} excluded).`
          : 'No liver chemistry results in the look-back window.',
    });
  }
  for (const analyte of ANALYTE_LIST) {
    const own = excluded.filter((e) => e.analyte === analyte);
    if (own.length > 0) {
      notes.push({
        code: 'excluded-results',
        analyte,
        message: `${own.length} ${analyte} result(s) not used: ${summariseReasons(own)}.`,
      });
    }
    const s = series[analyte];
    if (s.latest !== null) {
      const ageDays = (now.getTime() - s.latest.timeMs) / DAY_MS;
      if (ageDays > STALE_AFTER_DAYS) {
        notes.push({
          code: 'stale-latest',
          analyte,
          message: `Latest ${analyte} is ${Math.floor(ageDays)} days old (older than ${STALE_AFTER_DAYS} days).`,
        });
      }
      const implausible = noteImplausibleRanges(s);
      if (implausible !== null) {
        notes.push(implausible);
      }
      const mixed = noteMixedMethods(s);
      if (mixed !== null) {
        notes.push(mixed);
      }
    }
    if (hasData && TREND_ANALYTES.includes(analyte) && s.trend.direction === 'insufficient') {
      notes.push({
        code: 'too-few-points',
        analyte,
        message: `${s.trend.pointCount} exact ${analyte} result(s) in the window; a trend needs at least 3.`,
      });
    }
  }
  return notes;
}

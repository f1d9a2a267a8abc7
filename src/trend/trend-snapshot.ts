import type {
  Analyte,
  Assessment,
  Direction,
  PatternClass,
  SeverityTier,
} from '../engine/types.js';

// What a trend link keeps of an Assessment: only what the trend page draws, each series as columns
// of numbers, with neither the patient id nor Observation ids. Taking it is on the hook path of every
// card-producing call, so it copies numbers and nothing else (three packed number arrays per series,
// about 2 kB for six months of fortnightly panels); the page model is built from it only when
// somebody opens the link. It is plain data, so a shared store can hold it as JSON.

/** Chart and table order: the divergence first, then the confirmatory tests. */
export const CHARTED_ANALYTES: readonly Analyte[] = ['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL'];

type Censor = '<' | '<=' | '>' | '>=';

export interface TrendSnapshotSeries {
  analyte: Analyte;
  unit: string;
  direction: Direction;
  slopePctPer30d: number | null;
  changePct: number | null;
  /** Epoch milliseconds, in the engine's (time) order. */
  timeMs: number[];
  value: number[];
  uln: number[];
  /** Present when the engine's trend covers only a recent segment: its first result's time. */
  trendFromMs?: number;
  /** Present only when at least one result was reported with a comparator. */
  censored?: (Censor | null)[];
}

export interface TrendSnapshotRRatio {
  value: number;
  patternClass: PatternClass;
  time: string;
}

export interface TrendSnapshot {
  evaluatedAt: string;
  lookbackDays: number;
  /** When the link stops working (ISO instant). */
  expiresAt: string;
  divergence: boolean;
  severity: { tier: SeverityTier; alpXUln: number } | null;
  rRatio: { first: TrendSnapshotRRatio | null; last: TrendSnapshotRRatio | null };
  notes: string[];
  series: TrendSnapshotSeries[];
}

export function takeTrendSnapshot(assessment: Assessment, expiresAt: Date): TrendSnapshot {
  const series: TrendSnapshotSeries[] = [];
  for (const analyte of CHARTED_ANALYTES) {
    const source = assessment.series[analyte];
    const count = source.points.length;
    if (count === 0) {
      continue;
    }
    const timeMs = new Array<number>(count);
    const value = new Array<number>(count);
    const uln = new Array<number>(count);
    let censored: (Censor | null)[] | undefined;
    for (let i = 0; i < count; i++) {
      const point = source.points[i];
      timeMs[i] = point.timeMs;
      value[i] = point.value;
      uln[i] = point.uln;
      if (point.censored !== undefined) {
        censored ??= new Array<Censor | null>(count).fill(null);
        censored[i] = point.censored;
      }
    }
    series.push({
      analyte,
      unit: source.unit,
      direction: source.trend.direction,
      slopePctPer30d: source.trend.slopePctPer30d,
      changePct: source.trend.changePct,
      timeMs,
      value,
      uln,
      ...(source.trend.recentSegment === undefined
        ? {}
        : { trendFromMs: Date.parse(source.trend.recentSegment.from) }),
      ...(censored === undefined ? {} : { censored }),
    });
  }
  const { rRatio, severity, divergence } = assessment.findings;
  const ratio = (r: typeof rRatio.first) =>
    r === null ? null : { value: r.value, patternClass: r.patternClass, time: r.time };
  return {
    evaluatedAt: assessment.evaluatedAt,
    lookbackDays: assessment.lookbackDays,
    expiresAt: expiresAt.toISOString(),
    divergence: divergence.present,
    severity: severity === null ? null : { tier: severity.tier, alpXUln: severity.alpXUln },
    rRatio: { first: ratio(rRatio.first), last: ratio(rRatio.last) },
    notes: assessment.dataQuality.map((note) => note.message),
    series,
  };
}

import { z } from 'zod';
import type { Analyte, Assessment } from '../engine/types.js';

// What a trend link keeps of an Assessment: only what the trend page draws, each series as columns
// of numbers, with neither the patient id nor Observation ids. Taking it is on the hook path of
// every card-producing call, so it copies numbers and nothing else; the page model is built from it
// only when somebody opens the link. It travels as JSON text, as a shared store would hold it, and
// is validated again on the way out, since such a store may hold text another version wrote.

/** Chart and table order: the divergence first, then the confirmatory tests. */
export const CHARTED_ANALYTES: readonly Analyte[] = ['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL'];

const AnalyteSchema = z.enum(['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL']);
const CensorSchema = z.enum(['<', '<=', '>', '>=']);
// ±8.64e15 ms is the range of an ECMAScript Date: anything beyond cannot be shown as a date.
const EpochMsSchema = z.number().int().min(-8.64e15).max(8.64e15);

const SnapshotSeriesSchema = z
  .object({
    analyte: AnalyteSchema,
    unit: z.string(),
    direction: z.enum(['rising', 'falling', 'stable', 'insufficient']),
    slopePctPer30d: z.number().nullable(),
    changePct: z.number().nullable(),
    timeMs: z.array(EpochMsSchema),
    value: z.array(z.number()),
    uln: z.array(z.number().positive()),
    /** Present only when at least one result was reported with a comparator. */
    censored: z.array(CensorSchema.nullable()).optional(),
  })
  .refine(
    (s) =>
      s.value.length === s.timeMs.length &&
      s.uln.length === s.timeMs.length &&
      (s.censored === undefined || s.censored.length === s.timeMs.length),
    { message: 'series columns differ in length' },
  );

const RRatioSchema = z.object({
  value: z.number(),
  patternClass: z.enum(['cholestatic', 'mixed', 'hepatocellular']),
  time: z.string(),
});

export const TrendSnapshotSchema = z.object({
  version: z.literal(1),
  evaluatedAt: z.string(),
  lookbackDays: z.number(),
  /** When the link stops working (ISO instant). */
  expiresAt: z.string(),
  divergence: z.boolean(),
  severity: z
    .object({ tier: z.enum(['below-5x', '5-10x', 'above-10x']), alpXUln: z.number() })
    .nullable(),
  rRatio: z.object({ first: RRatioSchema.nullable(), last: RRatioSchema.nullable() }),
  notes: z.array(z.string()),
  series: z.array(SnapshotSeriesSchema),
});

export type TrendSnapshot = z.infer<typeof TrendSnapshotSchema>;
export type TrendSnapshotSeries = TrendSnapshot['series'][number];
type Censor = z.infer<typeof CensorSchema>;

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
      ...(censored === undefined ? {} : { censored }),
    });
  }
  const { rRatio, severity, divergence } = assessment.findings;
  const ratio = (r: typeof rRatio.first) =>
    r === null ? null : { value: r.value, patternClass: r.patternClass, time: r.time };
  return {
    version: 1,
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

export function encodeTrendSnapshot(snapshot: TrendSnapshot): string {
  return JSON.stringify(snapshot);
}

/** The snapshot in `text`, or undefined when it is not one this version can show. */
export function decodeTrendSnapshot(text: string): TrendSnapshot | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = TrendSnapshotSchema.safeParse(parsed);
  return result.success ? result.data : undefined;
}

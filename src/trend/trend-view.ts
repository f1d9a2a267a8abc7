import { z } from 'zod';

// The trend page shows a reduced copy of the engine's Assessment: the series and the few findings it
// charts, without the patient id or Observation ids, so the link cache holds as little as possible.
// The publisher receives `unknown` (the CdsService contract), hence a schema rather than a cast.

const AnalyteSchema = z.enum(['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL']);
const DirectionSchema = z.enum(['rising', 'falling', 'stable', 'insufficient']);
const PatternClassSchema = z.enum(['cholestatic', 'mixed', 'hepatocellular']);

// Exactly the members of TrendViewPoint: the parsed copy of each point is what the view stores.
const LabPointSchema = z.object({
  time: z.string(),
  value: z.number(),
  censored: z.enum(['<', '<=', '>', '>=']).optional(),
  uln: z.number().positive(),
  xUln: z.number(),
});

const SeriesSchema = z.object({
  analyte: AnalyteSchema,
  unit: z.string(),
  points: z.array(LabPointSchema),
  trend: z.object({
    direction: DirectionSchema,
    method: z.enum(['theil-sen', 'two-point', 'none']),
    slopePctPer30d: z.number().nullable(),
    changePct: z.number().nullable(),
  }),
});

const RRatioSchema = z.object({
  value: z.number(),
  patternClass: PatternClassSchema,
  time: z.string(),
});

/** The parts of `Assessment` (src/engine/types.ts) the trend page reads. */
export const TrendAssessmentSchema = z.object({
  evaluatedAt: z.string(),
  lookbackDays: z.number(),
  series: z.partialRecord(AnalyteSchema, SeriesSchema),
  findings: z.object({
    divergence: z.object({ present: z.boolean() }),
    rRatio: z.object({ first: RRatioSchema.nullable(), last: RRatioSchema.nullable() }),
    severity: z
      .object({ tier: z.enum(['below-5x', '5-10x', 'above-10x']), alpXUln: z.number() })
      .nullable(),
  }),
  dataQuality: z.array(z.object({ code: z.string(), message: z.string() })).default([]),
});

export type TrendAssessment = z.infer<typeof TrendAssessmentSchema>;
export type Analyte = z.infer<typeof AnalyteSchema>;

export interface TrendViewPoint {
  time: string;
  value: number;
  censored?: '<' | '<=' | '>' | '>=';
  uln: number;
  xUln: number;
}

export interface TrendViewSeries {
  analyte: Analyte;
  label: string;
  unit: string;
  points: TrendViewPoint[];
  direction: z.infer<typeof DirectionSchema>;
  slopePctPer30d: number | null;
  changePct: number | null;
  /** Ends of the fitted Theil–Sen line in ×ULN; null when the engine fitted no slope. */
  fitted: [TrendViewFitPoint, TrendViewFitPoint] | null;
}

export interface TrendViewFitPoint {
  time: string;
  xUln: number;
}

export interface TrendView {
  evaluatedAt: string;
  lookbackDays: number;
  series: TrendViewSeries[];
  rRatio: { first: z.infer<typeof RRatioSchema> | null; last: z.infer<typeof RRatioSchema> | null };
  severity: TrendAssessment['findings']['severity'];
  divergence: boolean;
  notes: string[];
  /** When the link stops working (ISO instant); shown so the reader knows the page is a snapshot. */
  expiresAt: string;
}

/** Chart and table order: the divergence first, then the confirmatory tests. */
export const CHARTED_ANALYTES: readonly Analyte[] = ['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL'];

export const ANALYTE_LABELS: Record<Analyte, string> = {
  ALP: 'ALP',
  AST: 'AST',
  ALT: 'ALT',
  GGT: 'GGT',
  TBIL: 'Total bilirubin',
  DBIL: 'Direct bilirubin',
};

const DAY_MS = 86_400_000;

/** Builds the page model; the Assessment must already have passed `TrendAssessmentSchema`. */
export function buildTrendView(assessment: TrendAssessment, expiresAt: Date): TrendView {
  const series: TrendViewSeries[] = [];
  for (const analyte of CHARTED_ANALYTES) {
    const source = assessment.series[analyte];
    if (source === undefined || source.points.length === 0) {
      continue;
    }
    // Each time is parsed once, not once per comparison: this runs on every card-producing call.
    const points: TrendViewPoint[] = source.points
      .map((point) => ({ point, ms: Date.parse(point.time) }))
      .sort((a, b) => a.ms - b.ms)
      .map(({ point }) => point);
    series.push({
      analyte,
      label: ANALYTE_LABELS[analyte],
      unit: source.unit,
      points,
      direction: source.trend.direction,
      slopePctPer30d: source.trend.slopePctPer30d,
      changePct: source.trend.changePct,
      fitted: fitTrendLine(points, source.trend.slopePctPer30d),
    });
  }
  return {
    evaluatedAt: assessment.evaluatedAt,
    lookbackDays: assessment.lookbackDays,
    series,
    rRatio: assessment.findings.rRatio,
    severity: assessment.findings.severity,
    divergence: assessment.findings.divergence.present,
    notes: assessment.dataQuality.map((note) => note.message),
    expiresAt: expiresAt.toISOString(),
  };
}

/**
 * The engine reports the Theil–Sen slope of ln(value) as % per 30 days but not the intercept, so the
 * line is re-anchored the Theil–Sen way: intercept = median of ln(xUln) − slope·t over the points.
 */
export function fitTrendLine(
  points: readonly TrendViewPoint[],
  slopePctPer30d: number | null,
): [TrendViewFitPoint, TrendViewFitPoint] | null {
  if (slopePctPer30d === null || slopePctPer30d <= -100) {
    return null;
  }
  const positive: { time: string; ms: number; xUln: number }[] = [];
  for (const p of points) {
    const ms = Date.parse(p.time);
    if (p.xUln > 0 && Number.isFinite(ms)) {
      positive.push({ time: p.time, ms, xUln: p.xUln });
    }
  }
  if (positive.length < 2) {
    return null;
  }
  const perDay = Math.log(1 + slopePctPer30d / 100) / 30;
  const first = positive[0];
  const last = positive[positive.length - 1];
  const days = (ms: number): number => (ms - first.ms) / DAY_MS;
  const intercept = median(positive.map((p) => Math.log(p.xUln) - perDay * days(p.ms)));
  return [
    { time: first.time, xUln: Math.exp(intercept + perDay * days(first.ms)) },
    { time: last.time, xUln: Math.exp(intercept + perDay * days(last.ms)) },
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

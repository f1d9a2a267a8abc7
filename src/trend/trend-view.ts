import type { Analyte, Direction } from '../engine/types.js';
import type { TrendSnapshot } from './trend-snapshot.js';

// The trend page's model, built from a stored snapshot when the page is requested.

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
  direction: Direction;
  slopePctPer30d: number | null;
  changePct: number | null;
  /** Set when the trend covers only the recent segment that starts at this time. */
  trendFrom?: string;
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
  rRatio: TrendSnapshot['rRatio'];
  severity: TrendSnapshot['severity'];
  divergence: boolean;
  notes: string[];
  /** When the link stops working (ISO instant); shown so the reader knows the page is a snapshot. */
  expiresAt: string;
}

export const ANALYTE_LABELS: Record<Analyte, string> = {
  ALP: 'ALP',
  AST: 'AST',
  ALT: 'ALT',
  GGT: 'GGT',
  TBIL: 'Total bilirubin',
  DBIL: 'Direct bilirubin',
};

const DAY_MS = 86_400_000;

export function buildTrendView(snapshot: TrendSnapshot): TrendView {
  const series = snapshot.series.map((source): TrendViewSeries => {
    const { trendFromMs } = source;
    const order = source.timeMs
      .map((_, i) => i)
      .sort((a, b) => source.timeMs[a] - source.timeMs[b]);
    const points = order.map((i): TrendViewPoint => {
      const point: TrendViewPoint = {
        time: new Date(source.timeMs[i]).toISOString(),
        value: source.value[i],
        uln: source.uln[i],
        xUln: source.value[i] / source.uln[i],
      };
      const censored = source.censored?.[i];
      if (censored !== undefined && censored !== null) {
        point.censored = censored;
      }
      return point;
    });
    return {
      analyte: source.analyte,
      label: ANALYTE_LABELS[source.analyte],
      unit: source.unit,
      points,
      direction: source.direction,
      slopePctPer30d: source.slopePctPer30d,
      changePct: source.changePct,
      fitted: fitTrendLine(
        trendFromMs === undefined
          ? points
          : points.filter((p) => Date.parse(p.time) >= trendFromMs),
        source.slopePctPer30d,
      ),
      ...(trendFromMs === undefined ? {} : { trendFrom: new Date(trendFromMs).toISOString() }),
    };
  });
  return {
    evaluatedAt: snapshot.evaluatedAt,
    lookbackDays: snapshot.lookbackDays,
    series,
    rRatio: snapshot.rRatio,
    severity: snapshot.severity,
    divergence: snapshot.divergence,
    notes: snapshot.notes,
    expiresAt: snapshot.expiresAt,
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

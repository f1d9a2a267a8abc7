import { pairPoints } from './pairing.js';
import { computeRRatio } from './r-ratio.js';
import { classifySeverity, isAtLeast2xUln } from './severity.js';
import type { Analyte, AnalyteSeries, Findings, LabPoint } from './types.js';

type SeriesMap = Readonly<Record<Analyte, AnalyteSeries>>;
type TrendPointMap = Readonly<Record<Analyte, readonly LabPoint[]>>;

/** ALP rising significantly while AST and/or ALT fall significantly (P2 + P3). */
function findDivergence(series: SeriesMap, trendPoints: TrendPointMap): Findings['divergence'] {
  const alp = series.ALP.trend.direction;
  const ast = series.AST.trend.direction;
  const alt = series.ALT.trend.direction;
  const ids = [...trendPoints.ALP, ...trendPoints.AST, ...trendPoints.ALT].map(
    (p) => p.observationId,
  );
  return {
    present: alp === 'rising' && (ast === 'falling' || alt === 'falling'),
    alp,
    ast,
    alt,
    observationIds: ids,
  };
}

function findRRatio(series: SeriesMap): Findings['rRatio'] {
  const pairs = pairPoints(series.ALT.points, series.ALP.points);
  const firstPair = pairs[0];
  const lastPair = pairs.at(-1);
  if (firstPair === undefined || lastPair === undefined) {
    return { first: null, last: null, fall: null };
  }
  const first = computeRRatio(firstPair);
  const last = computeRRatio(lastPair);
  return { first, last, fall: pairs.length > 1 ? first.value - last.value : null };
}

/**
 * AST/ALT on raw activities at the latest paired date; ≥ 1 points to cirrhosis (C2). Only when AST or
 * ALT is above its ULN: a ratio of two normal values carries no meaning.
 */
function findDeRitis(series: SeriesMap): Findings['deRitis'] {
  const pair = pairPoints(series.AST.points, series.ALT.points).at(-1);
  if (pair === undefined || !(isRaised(pair.a) || isRaised(pair.b))) {
    return null;
  }
  const value = pair.a.value / pair.b.value;
  return {
    value,
    time: pair.time,
    atLeastOne: value >= 1,
    astObservationId: pair.a.observationId,
    altObservationId: pair.b.observationId,
  };
}

/**
 * From the latest ALP, censored or not: a `>` value gives a lower bound on the tier, a `<` value an
 * upper bound, and either way the tier is the best statement the data allow.
 */
function findSeverity(series: SeriesMap): Findings['severity'] {
  const latest = series.ALP.latest;
  if (latest === null) {
    return null;
  }
  return {
    tier: classifySeverity(latest.xUln),
    alpXUln: latest.xUln,
    atLeast2xUln: isAtLeast2xUln(latest.xUln),
    observationId: latest.observationId,
  };
}

/** Raised means above the ULN; a `<` result is below its bound, so it is never called raised. */
function isRaised(point: LabPoint): boolean {
  return point.xUln > 1 && point.censored !== '<' && point.censored !== '<=';
}

function findGgt(series: SeriesMap): Findings['ggt'] {
  const latest = series.GGT.latest;
  if (latest === null) {
    return { status: 'none-in-window', latest: null };
  }
  return { status: isRaised(latest) ? 'raised' : 'normal', latest };
}

/**
 * Status from the latest total bilirubin (the latest direct one when no total was measured);
 * direct fraction from the latest exact total and direct results drawn together.
 */
function findBilirubin(series: SeriesMap): Findings['bilirubin'] {
  const latestTotal = series.TBIL.latest;
  const latestDirect = series.DBIL.latest;
  const basis = latestTotal ?? latestDirect;
  const pair = pairPoints(series.DBIL.points, series.TBIL.points).at(-1);
  return {
    status: basis === null ? 'none-in-window' : isRaised(basis) ? 'raised' : 'normal',
    hasDirect: latestDirect !== null,
    directFraction: pair === undefined ? null : pair.a.value / pair.b.value,
    latestTotal,
    latestDirect,
  };
}

export function buildFindings(series: SeriesMap, trendPoints: TrendPointMap): Findings {
  return {
    divergence: findDivergence(series, trendPoints),
    rRatio: findRRatio(series),
    deRitis: findDeRitis(series),
    severity: findSeverity(series),
    ggt: findGgt(series),
    bilirubin: findBilirubin(series),
  };
}

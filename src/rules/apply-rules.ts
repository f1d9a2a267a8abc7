import type { CauseId, ContextRules, PitfallId, SuggestionId } from '../cards/content-schema.js';
import { classifySeverity } from '../engine/severity.js';
import type { Analyte, Assessment, LabPoint, SeverityTier, Trend } from '../engine/types.js';
import {
  describeExposure,
  hasCondition,
  isCurrent,
  type MatchedDrug,
  type PatientContext,
} from './patient-context.js';
import { explainByPregnancy, type PlacentalExplanation } from './pregnancy.js';

/** What the rules decided, before any wording: the builders turn each into one card. */
export type Recommendation =
  | CholestaticShiftRecommendation
  | NonHepaticAlpRecommendation
  | MedicationReviewRecommendation
  | TwoResultsRecommendation
  | PlacentalAlpRecommendation
  | OverlapAlpRecommendation;

export interface CholestaticShiftRecommendation {
  kind: 'cholestatic-shift';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  /** Every cause, highest score first; a score above 0 means the patient's record supports it. */
  differential: RankedCause[];
  pitfalls: PitfallId[];
  /** Observations behind the finding, for ServiceRequest.reasonReference. */
  reasonObservationIds: string[];
  /** Imaging affirmed a duct stone or dilated ducts: obstruction is found, ERCP is not to wait (X3). */
  obstructionOnImaging: boolean;
  /** AST/ALT above the alcohol threshold with alcohol-related liver disease on record (C6). */
  deRitisPointsToAlcohol: boolean;
}

/** A rising ALP that placental ALP explains (second or third trimester, GGT not raised; §2c). */
export interface PlacentalAlpRecommendation {
  kind: 'placental-alp';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  explanation: PlacentalExplanation;
  reasonObservationIds: string[];
}

/** ALP that stays above 2×ULN while the aminotransferases fall in autoimmune hepatitis (C3, W7). */
export interface OverlapAlpRecommendation {
  kind: 'overlap-alp';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  /** The ALP results that stayed high, oldest first. */
  persistentAlp: LabPoint[];
  reasonObservationIds: string[];
}

export interface NonHepaticAlpRecommendation {
  kind: 'non-hepatic-alp';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  reasonObservationIds: string[];
}

export interface MedicationReviewRecommendation {
  kind: 'medication-review';
  tier: SeverityTier;
  drugs: MatchedDrug[];
  olderAdult: boolean;
  reasonObservationIds: string[];
}

/** One analyte's side of a two-result finding: its first and last exact result in the window. */
export interface TwoResultChange {
  analyte: Analyte;
  first: LabPoint;
  last: LabPoint;
  /** How many RCVs the change spans (on the log scale); null when it rests on a fitted trend. */
  rcvMultiple: number | null;
}

export interface TwoResultsRecommendation {
  kind: 'two-results';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  alp: TwoResultChange;
  aminotransferase: TwoResultChange;
  reasonObservationIds: string[];
}

export interface RankedCause {
  id: CauseId;
  score: number;
  reasons: string[];
  /** Already on the record (diagnosed or found on imaging): stated as known, not suggested. */
  known: boolean;
}

/** Age from which drug-induced liver injury is more often cholestatic (C4). */
export const OLDER_ADULT_AGE = 60;

/**
 * Two results count as "far apart" when their change spans at least this many two-result RCVs on the
 * log scale (reference.md §3b: ALP must move ≥ ~17–22 % and ALT/AST ≥ ~25–35 % to exceed noise; three
 * RCVs is about ×1.7 for ALP and ×2 or ÷2 for the aminotransferases).
 */
export const TWO_RESULT_RCV_MULTIPLE = 3;

const CAUSE_ORDER: readonly CauseId[] = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'PSC'];

/**
 * Decides which cards the assessment deserves. Silence is the default: nothing is returned unless
 * the engine found ALP rising above its ULN while the aminotransferases fall. An R ratio that has
 * moved into the cholestatic range without that divergence is not enough on its own, because R
 * moves with noise in either enzyme and a card on it would fire on patients whose ALP is not rising.
 */
export function applyRules(
  assessment: Assessment,
  context: PatientContext,
  rules: ContextRules,
): Recommendation[] {
  const { findings } = assessment;
  const { divergence, severity } = findings;
  const aminotransferaseRising = divergence.ast === 'rising' || divergence.alt === 'rising';
  const overlap = findOverlapSignal(assessment, context, rules);
  if (overlap !== null) {
    return [overlap];
  }
  if (
    !divergence.present ||
    divergence.alp !== 'rising' ||
    aminotransferaseRising ||
    severity === null ||
    severity.alpXUln <= 1
  ) {
    return applyTwoResultRule(assessment, context, rules);
  }
  const tier = severity.tier;
  const reasonObservationIds = selectReasonObservations(assessment);

  // Placental ALP explains the rise: say so at info level, check GGT, and image nothing on ALP alone.
  const placental = explainByPregnancy(assessment, context.pregnancy, rules.pregnancy);
  if (placental !== null) {
    return [
      {
        kind: 'placental-alp',
        tier,
        suggestions: findings.ggt.status === 'none-in-window' ? ['ggt'] : [],
        explanation: placental,
        reasonObservationIds,
      },
    ];
  }

  // A normal GGT with a rising ALP points away from the liver: a lower-key card instead (W1).
  if (findings.ggt.status === 'normal') {
    return [{ kind: 'non-hepatic-alp', tier, suggestions: ['bone-alp'], reasonObservationIds }];
  }

  const recommendations: Recommendation[] = [
    {
      kind: 'cholestatic-shift',
      tier,
      suggestions: selectSuggestions(assessment, context),
      differential: rankDifferential(assessment, context, rules),
      pitfalls: selectPitfalls(assessment, context),
      reasonObservationIds,
      obstructionOnImaging: hasObstructionOnImaging(context),
      deRitisPointsToAlcohol: deRitisPointsToAlcohol(assessment, context, rules),
    },
  ];
  if (context.cholestaticDrugs.length > 0) {
    recommendations.push({
      kind: 'medication-review',
      tier,
      drugs: context.cholestaticDrugs,
      olderAdult: (assessment.patient.ageYears ?? 0) >= OLDER_ADULT_AGE,
      reasonObservationIds,
    });
  }
  return recommendations;
}

/** How many two-result RCVs a change spans on the log scale, signed: > 0 up, < 0 down. */
function countRcvs(trend: Trend): number | null {
  if (trend.changePct === null) {
    return null;
  }
  const change = Math.log1p(trend.changePct / 100);
  return change >= 0
    ? change / Math.log1p(trend.rcvUpPct / 100)
    : -change / Math.log1p(trend.rcvDownPct / 100);
}

function describeSide(assessment: Assessment, analyte: Analyte): TwoResultChange | null {
  const series = assessment.series[analyte];
  const exact = series.points.filter((point) => point.censored === undefined);
  const first = exact[0];
  const last = exact.at(-1);
  if (first === undefined || last === undefined || first === last) {
    return null;
  }
  return {
    analyte,
    first,
    last,
    rcvMultiple: series.trend.method === 'two-point' ? countRcvs(series.trend) : null,
  };
}

/**
 * Two results far apart (issue class 5, S1): when ALP or the aminotransferase has only two exact
 * results, the trend rule cannot speak, yet a change of several RCVs is no noise. ALP must have risen
 * (a rising trend, or two results TWO_RESULT_RCV_MULTIPLE RCVs apart) to above its ULN, AST or ALT
 * must have fallen the same way, neither may be rising, and at least one side rests on two results
 * only (otherwise the trend rule has already decided). Small two-result changes stay silent.
 */
function applyTwoResultRule(
  assessment: Assessment,
  context: PatientContext,
  rules: ContextRules,
): Recommendation[] {
  const { series, findings } = assessment;
  const severity = findings.severity;
  if (severity === null || severity.alpXUln <= 1) {
    return [];
  }
  const far = (analyte: Analyte, sign: 1 | -1): 'trend' | 'two' | null => {
    const trend = series[analyte].trend;
    if (trend.direction === (sign > 0 ? 'rising' : 'falling')) {
      return 'trend';
    }
    const multiple = trend.method === 'two-point' ? countRcvs(trend) : null;
    return multiple !== null && sign * multiple >= TWO_RESULT_RCV_MULTIPLE ? 'two' : null;
  };
  // Any rise of an aminotransferase beyond its RCV is not the pattern this card is about.
  const risingAminotransferase = (['ALT', 'AST'] as const).some((analyte) => {
    const trend = series[analyte].trend;
    const multiple = trend.method === 'two-point' ? countRcvs(trend) : null;
    return trend.direction === 'rising' || (multiple !== null && multiple >= 1);
  });
  const alpWay = far('ALP', 1);
  if (alpWay === null || risingAminotransferase) {
    return [];
  }
  const aminotransferase = (['ALT', 'AST'] as const).find((analyte) => {
    const way = far(analyte, -1);
    return way !== null && (way === 'two' || alpWay === 'two');
  });
  const alp = describeSide(assessment, 'ALP');
  const amino = aminotransferase === undefined ? null : describeSide(assessment, aminotransferase);
  if (alp === null || amino === null) {
    return [];
  }
  const reasonObservationIds = [
    ...new Set([
      alp.first.observationId,
      alp.last.observationId,
      amino.first.observationId,
      amino.last.observationId,
      severity.observationId,
    ]),
  ];
  // Placental ALP (class 2) explains a two-result rise as well as a trend: the same info card.
  const placental = explainByPregnancy(assessment, context.pregnancy, rules.pregnancy);
  if (placental !== null) {
    return [
      {
        kind: 'placental-alp',
        tier: severity.tier,
        suggestions: findings.ggt.status === 'none-in-window' ? ['ggt'] : [],
        explanation: placental,
        reasonObservationIds,
      },
    ];
  }
  const suggestions: SuggestionId[] = ['repeat-liver-panel'];
  if (findings.ggt.status === 'none-in-window') {
    suggestions.push('ggt');
  }
  // A normal GGT points away from the liver (W1): the repeat comes first, hepatic orders wait for it.
  if (findings.ggt.status !== 'normal') {
    if (!findings.bilirubin.hasDirect) {
      suggestions.push('fractionated-bilirubin');
    }
    if (context.abdominalImaging === null) {
      suggestions.push('abdominal-ultrasound');
    }
  }
  const recommendations: Recommendation[] = [
    {
      kind: 'two-results',
      tier: severity.tier,
      suggestions,
      alp,
      aminotransferase: amino,
      reasonObservationIds,
    },
  ];
  if (context.cholestaticDrugs.length > 0 && findings.ggt.status !== 'normal') {
    recommendations.push({
      kind: 'medication-review',
      tier: severity.tier,
      drugs: context.cholestaticDrugs,
      olderAdult: (assessment.patient.ageYears ?? 0) >= OLDER_ADULT_AGE,
      reasonObservationIds,
    });
  }
  return recommendations;
}

/** Newest results per analyte that every proposed order cites; enough to show the trend. */
export const REASONS_PER_ANALYTE = 6;

/**
 * The ALP, AST and ALT results the divergence rests on, newest few of each, plus the ALP that set
 * the tier. A long series is cut so that every ServiceRequest does not repeat hundreds of references.
 */
function selectReasonObservations(assessment: Assessment): string[] {
  const { divergence, severity } = assessment.findings;
  const used = new Set(divergence.observationIds);
  const ids = (['ALP', 'AST', 'ALT'] as const).flatMap((analyte) =>
    assessment.series[analyte].points
      .filter((point) => used.has(point.observationId))
      .slice(-REASONS_PER_ANALYTE)
      .map((point) => point.observationId),
  );
  return [...new Set([...ids, ...(severity === null ? [] : [severity.observationId])])];
}

function selectSuggestions(assessment: Assessment, context: PatientContext): SuggestionId[] {
  const { findings } = assessment;
  const suggestions: SuggestionId[] = [];
  if (findings.ggt.status === 'none-in-window') {
    suggestions.push('ggt');
  }
  if (!findings.bilirubin.hasDirect) {
    suggestions.push('fractionated-bilirubin');
  }
  if (context.abdominalImaging === null) {
    suggestions.push('abdominal-ultrasound');
  }
  // ALP is rising whenever we get here, so an ultrasound already on record means "US, ALP still up"
  // (W5), unless it found the obstruction: then ERCP is next, not MRCP (X3). IBD asks for MRCP to
  // look for PSC (W6), which is moot once PSC is diagnosed.
  const unrevealingUltrasound =
    context.abdominalImaging !== null && !hasObstructionOnImaging(context);
  const lookForPsc = hasCondition(context, 'ibd') && !hasCondition(context, 'psc');
  if ((lookForPsc || unrevealingUltrasound) && !hasObstructionOnImaging(context)) {
    suggestions.push('mrcp');
  }
  if (hasCondition(context, 'aih', 'pbc', 'psc')) {
    suggestions.push('autoimmune-panel');
  }
  return suggestions;
}

function rankDifferential(
  assessment: Assessment,
  context: PatientContext,
  rules: ContextRules,
): RankedCause[] {
  const causes = new Map<CauseId, RankedCause>(
    CAUSE_ORDER.map((id) => [id, { id, score: 0, reasons: [], known: false }]),
  );
  const known = (id: CauseId) => {
    const cause = causes.get(id);
    if (cause !== undefined) {
      cause.known = true;
    }
  };
  const support = (id: CauseId, score: number, reason: string) => {
    const cause = causes.get(id);
    if (cause !== undefined) {
      cause.score += score;
      cause.reasons.push(reason);
    }
  };
  const labelOf = (group: Parameters<typeof hasCondition>[1]) =>
    context.conditions.find((condition) => condition.group === group)?.label ?? group;
  const { findings, patient } = assessment;

  if (hasCondition(context, 'stones')) {
    support('C1', 3, `${labelOf('stones')} on record`);
    known('C1');
  }
  const imaging = context.abdominalImaging;
  if (imaging !== null && imaging.findings.length > 0) {
    support(
      'C1',
      4,
      `${imaging.findings.map((finding) => finding.label).join(' and ')} on the ultrasound of ${imaging.date.slice(0, 10)}`,
    );
    known('C1');
  }
  if (hasCondition(context, 'cirrhosis')) {
    support('C2', 3, `${labelOf('cirrhosis')} on record`);
    known('C2');
  }
  if (findings.deRitis?.atLeastOne) {
    support('C2', 2, `AST/ALT ${findings.deRitis.value.toFixed(2)}`);
  }
  if (hasCondition(context, 'aih')) {
    support('C3', 2, `${labelOf('aih')} on record`);
    if (hasCondition(context, 'pbc', 'psc')) {
      support('C3', 2, 'with PBC or PSC on record');
      known('C3');
    }
    if (context.immunosuppressants.length > 0) {
      support('C3', 1, `on ${context.immunosuppressants.join(', ')}`);
    }
  }
  // A drug stopped within the exposure window is still a candidate: the injury can follow stopping (C4).
  for (const drug of context.cholestaticDrugs) {
    support(
      'C4',
      3,
      isCurrent(drug.exposure)
        ? `on ${drug.drug.name}`
        : `${drug.drug.name} ${describeExposure(drug.exposure)}`,
    );
  }
  // Age makes a drug's injury more often cholestatic; it is not a drug, so alone it ranks nothing.
  if (
    context.cholestaticDrugs.length > 0 &&
    patient.ageYears !== null &&
    patient.ageYears >= OLDER_ADULT_AGE
  ) {
    support('C4', 1, `age ${Math.floor(patient.ageYears)}`);
  }
  if (hasCondition(context, 'malignancy')) {
    support('C5', 3, `${labelOf('malignancy')} on record`);
    known('C5');
  }
  if (hasCondition(context, 'infiltrative')) {
    support('C5', 2, `${labelOf('infiltrative')} on record`);
    known('C5');
  }
  if (findings.severity?.tier === 'above-10x') {
    support('C5', 1, 'ALP above 10×ULN');
  }
  if (hasCondition(context, 'hbv')) {
    support('C6', 2, `${labelOf('hbv')} on record`);
  }
  if (hasCondition(context, 'alcohol')) {
    support('C6', 2, `${labelOf('alcohol')} on record`);
  }
  if (deRitisPointsToAlcohol(assessment, context, rules) && findings.deRitis !== null) {
    support('C6', 2, `AST/ALT ${findings.deRitis.value.toFixed(2)} with alcohol on record`);
  }
  if (hasCondition(context, 'psc')) {
    support('PSC', 3, `${labelOf('psc')} on record`);
    known('PSC');
  } else if (hasCondition(context, 'ibd')) {
    support('PSC', 3, `${labelOf('ibd')} on record`);
  }

  // Stable sort: ties keep the guideline order, stones first.
  return [...causes.values()].sort((a, b) => b.score - a.score);
}

function selectPitfalls(assessment: Assessment, context: PatientContext): PitfallId[] {
  const pitfalls: PitfallId[] = [];
  if (hasCondition(context, 'nash') && assessment.findings.severity?.atLeast2xUln) {
    pitfalls.push('X1');
  }
  // The card only fires while the aminotransferases fall, which is exactly when X2 applies.
  pitfalls.push('X2');
  if (hasCondition(context, 'stones') || hasObstructionOnImaging(context)) {
    pitfalls.push('X3');
  }
  if (hasCondition(context, 'ibd', 'psc')) {
    pitfalls.push('X4');
  }
  return pitfalls;
}

function hasObstructionOnImaging(context: PatientContext): boolean {
  return (context.abdominalImaging?.findings.length ?? 0) > 0;
}

/** AST/ALT above the alcohol threshold (usually > 2 in alcoholic liver disease) with alcohol on record. */
function deRitisPointsToAlcohol(
  assessment: Assessment,
  context: PatientContext,
  rules: ContextRules,
): boolean {
  const deRitis = assessment.findings.deRitis;
  return (
    deRitis !== null &&
    deRitis.value > rules.deRitis.alcoholAbove &&
    hasCondition(context, 'alcohol')
  );
}

const DAY_MS = 86_400_000;

/**
 * C3: in autoimmune hepatitis the aminotransferases fall on treatment while ALP stays above 2×ULN
 * (flat or rising) across the same weeks. A rising ALP is the cholestatic shift, ranked with C3
 * first; this catches the flat ALP the shift rule leaves silent. An overlap already on the record
 * (AIH with PBC or PSC) is not news.
 */
function findOverlapSignal(
  assessment: Assessment,
  context: PatientContext,
  rules: ContextRules,
): OverlapAlpRecommendation | null {
  const { divergence } = assessment.findings;
  const { overlap } = rules;
  if (!hasCondition(context, 'aih') || hasCondition(context, 'pbc', 'psc')) {
    return null;
  }
  const falling = divergence.ast === 'falling' || divergence.alt === 'falling';
  const rising = divergence.ast === 'rising' || divergence.alt === 'rising';
  if (!falling || rising || divergence.alp === 'rising' || divergence.alp === 'falling') {
    return null;
  }
  const aminotransferases = [...assessment.series.AST.points, ...assessment.series.ALT.points];
  const fallStartMs = Math.min(...aminotransferases.map((point) => point.timeMs));
  const alp = assessment.series.ALP.points.filter((point) => point.timeMs >= fallStartMs);
  const first = alp[0];
  const last = alp.at(-1);
  if (first === undefined || last === undefined || alp.length < overlap.minResults) {
    return null;
  }
  const persistent = alp.every(
    (point) =>
      point.xUln > overlap.persistentAlpAboveXUln &&
      point.censored !== '<' &&
      point.censored !== '<=',
  );
  if (!persistent || (last.timeMs - first.timeMs) / DAY_MS < overlap.minSpanDays) {
    return null;
  }
  const suggestions: SuggestionId[] = [];
  if (assessment.findings.ggt.status === 'none-in-window') {
    suggestions.push('ggt');
  }
  suggestions.push('autoimmune-panel');
  if (context.abdominalImaging === null) {
    suggestions.push('abdominal-ultrasound');
  }
  if (!hasObstructionOnImaging(context)) {
    suggestions.push('mrcp');
  }
  return {
    kind: 'overlap-alp',
    tier: classifySeverity(last.xUln),
    suggestions,
    persistentAlp: alp,
    reasonObservationIds: selectReasonObservations(assessment),
  };
}

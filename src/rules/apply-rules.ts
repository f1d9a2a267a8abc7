import type { CauseId, PitfallId, SuggestionId } from '../cards/content-schema.js';
import type { Assessment, SeverityTier } from '../engine/types.js';
import {
  describeExposure,
  hasCondition,
  isCurrent,
  type MatchedDrug,
  type PatientContext,
} from './patient-context.js';

/** What the rules decided, before any wording: the builders turn each into one card. */
export type Recommendation =
  CholestaticShiftRecommendation | NonHepaticAlpRecommendation | MedicationReviewRecommendation;

export interface CholestaticShiftRecommendation {
  kind: 'cholestatic-shift';
  tier: SeverityTier;
  suggestions: SuggestionId[];
  /** Every cause, highest score first; a score above 0 means the patient's record supports it. */
  differential: RankedCause[];
  pitfalls: PitfallId[];
  /** Observations behind the finding, for ServiceRequest.reasonReference. */
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

export interface RankedCause {
  id: CauseId;
  score: number;
  reasons: string[];
}

/** Age from which drug-induced liver injury is more often cholestatic (C4). */
export const OLDER_ADULT_AGE = 60;

const CAUSE_ORDER: readonly CauseId[] = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'PSC'];

/**
 * Decides which cards the assessment deserves. Silence is the default: nothing is returned unless
 * the engine found ALP rising above its ULN while the aminotransferases fall. An R ratio that has
 * moved into the cholestatic range without that divergence is not enough on its own, because R
 * moves with noise in either enzyme and a card on it would fire on patients whose ALP is not rising.
 */
export function applyRules(assessment: Assessment, context: PatientContext): Recommendation[] {
  const { findings } = assessment;
  const { divergence, severity } = findings;
  const aminotransferaseRising = divergence.ast === 'rising' || divergence.alt === 'rising';
  if (
    !divergence.present ||
    divergence.alp !== 'rising' ||
    aminotransferaseRising ||
    severity === null ||
    severity.alpXUln <= 1
  ) {
    return [];
  }
  const tier = severity.tier;
  const reasonObservationIds = selectReasonObservations(assessment);

  // A normal GGT with a rising ALP points away from the liver: a lower-key card instead (W1).
  if (findings.ggt.status === 'normal') {
    return [{ kind: 'non-hepatic-alp', tier, suggestions: ['bone-alp'], reasonObservationIds }];
  }

  const recommendations: Recommendation[] = [
    {
      kind: 'cholestatic-shift',
      tier,
      suggestions: selectSuggestions(assessment, context),
      differential: rankDifferential(assessment, context),
      pitfalls: selectPitfalls(assessment, context),
      reasonObservationIds,
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
  // ALP is rising whenever we get here, so an ultrasound already on record means "US, ALP still up" (W5).
  if (hasCondition(context, 'ibd', 'psc') || context.abdominalImaging !== null) {
    suggestions.push('mrcp');
  }
  if (hasCondition(context, 'aih', 'pbc', 'psc')) {
    suggestions.push('autoimmune-panel');
  }
  return suggestions;
}

function rankDifferential(assessment: Assessment, context: PatientContext): RankedCause[] {
  const causes = new Map<CauseId, RankedCause>(
    CAUSE_ORDER.map((id) => [id, { id, score: 0, reasons: [] }]),
  );
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
  }
  if (hasCondition(context, 'cirrhosis')) {
    support('C2', 3, `${labelOf('cirrhosis')} on record`);
  }
  if (findings.deRitis?.atLeastOne) {
    support('C2', 2, `AST/ALT ${findings.deRitis.value.toFixed(2)}`);
  }
  if (hasCondition(context, 'aih')) {
    support('C3', 2, `${labelOf('aih')} on record`);
    if (hasCondition(context, 'pbc', 'psc')) {
      support('C3', 2, 'with PBC or PSC on record');
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
  if (patient.ageYears !== null && patient.ageYears >= OLDER_ADULT_AGE) {
    support('C4', 1, `age ${Math.floor(patient.ageYears)}`);
  }
  if (hasCondition(context, 'malignancy')) {
    support('C5', 3, `${labelOf('malignancy')} on record`);
  }
  if (hasCondition(context, 'infiltrative')) {
    support('C5', 2, `${labelOf('infiltrative')} on record`);
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
  if (hasCondition(context, 'psc')) {
    support('PSC', 3, `${labelOf('psc')} on record`);
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
  if (hasCondition(context, 'stones')) {
    pitfalls.push('X3');
  }
  if (hasCondition(context, 'ibd', 'psc')) {
    pitfalls.push('X4');
  }
  return pitfalls;
}

import { randomUUID } from 'node:crypto';
import type { Card, Link } from '../cds/schemas.js';
import type { Assessment, SeverityTier } from '../engine/types.js';
import type {
  CholestaticShiftRecommendation,
  MedicationReviewRecommendation,
  NonHepaticAlpRecommendation,
  OverlapAlpRecommendation,
  PlacentalAlpRecommendation,
  Recommendation,
  TwoResultChange,
  TwoResultsRecommendation,
} from '../rules/apply-rules.js';
import {
  describeExposure,
  isCurrent,
  type MatchedDrug,
  type PatientContext,
} from '../rules/patient-context.js';
import { SUMMARY_LIMIT, splitTemplate, type CardKindContent } from './content-schema.js';
import {
  describeDirection,
  formatDate,
  formatReportedUnit,
  formatValue,
  formatXUln,
  renderDataQuality,
  renderRRatio,
  renderSeriesTable,
  renderSlopes,
} from './detail-blocks.js';
import type { CardContent } from './load-content.js';
import { buildSuggestion } from './suggestions.js';

export interface BuildCardsInput {
  recommendations: readonly Recommendation[];
  assessment: Assessment;
  context: PatientContext;
  content: CardContent;
  patientId: string;
  now: Date;
  /** Absolute URL of the trend page for this assessment, when a publisher is configured. */
  trendLinkUrl?: string;
}

export const TREND_LINK_LABEL = 'Open the liver trend chart';

/** Most urgent first: an EHR shows cards in the order it receives them. */
const INDICATOR_ORDER: Readonly<Record<Card['indicator'], number>> = {
  critical: 0,
  warning: 1,
  info: 2,
};

/**
 * Fills the reviewed templates for each recommendation, critical cards first, then warnings, then
 * info (a stable sort, so cards of one indicator keep the rules' order). Pure apart from the uuids.
 */
export function buildCards(input: BuildCardsInput): Card[] {
  return buildCardsFor(input).map(({ card }) => card);
}

/** The same cards, each with the recommendation it was built from (for the card issuance log). */
export function buildCardsFor(
  input: BuildCardsInput,
): { card: Card; recommendation: Recommendation }[] {
  const built = input.recommendations.map((recommendation) => {
    switch (recommendation.kind) {
      case 'cholestatic-shift':
        return { card: buildShiftCard(recommendation, input), recommendation };
      case 'non-hepatic-alp':
        return { card: buildNonHepaticCard(recommendation, input), recommendation };
      case 'medication-review':
        return { card: buildMedicationCard(recommendation, input), recommendation };
      case 'two-results':
        return { card: buildTwoResultsCard(recommendation, input), recommendation };
      case 'placental-alp':
        return { card: buildPlacentalCard(recommendation, input), recommendation };
      case 'overlap-alp':
        return { card: buildOverlapCard(recommendation, input), recommendation };
    }
  });
  return built.sort(
    (a, b) => INDICATOR_ORDER[a.card.indicator] - INDICATOR_ORDER[b.card.indicator],
  );
}

function buildShiftCard(recommendation: CholestaticShiftRecommendation, input: BuildCardsInput) {
  const content = input.content.cholestaticShift;
  const { assessment } = input;
  const { findings } = assessment;
  const phrases = content.phrases;
  const ggt = findings.ggt;
  const detailSlots: Record<string, string> = {
    tierAdvice: phrases.tierAdvice[recommendation.tier],
    ggtInterpretation: `${phrases.ggt[ggt.status]}${describeLatest('GGT', ggt.latest)}`,
    bilirubinNote: describeBilirubin(findings.bilirubin, phrases),
    ...evidenceSlots(assessment),
    deRitis: findings.deRitis?.atLeastOne
      ? `AST/ALT ${findings.deRitis.value.toFixed(2)}. ${
          recommendation.deRitisPointsToAlcohol ? phrases.deRitisAlcohol : phrases.deRitisAtLeastOne
        }`
      : '',
    contextNote: [
      describeContext(input.context, input.content),
      input.context.pregnancy === null ? '' : phrases.pregnancyNotPlacental,
    ]
      .filter((part) => part !== '')
      .join(' '),
    differential: renderDifferential(recommendation, content),
    pitfalls: recommendation.pitfalls.map((id) => `- ${phrases.pitfalls[id].text}`).join('\n'),
  };
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: summarySlotsOf(assessment),
    detailSlots,
    suggestions: buildSuggestions(content, recommendation, input),
    extraLinks: [],
    ...(recommendation.obstructionOnImaging
      ? { minimumIndicator: content.obstructionIndicator }
      : {}),
  });
}

/**
 * A missing direct bilirubin is the actionable gap (W2); a raised total is reported with its direct
 * share; a direct bilirubin above its own ULN is a finding even while the total is normal.
 */
function describeBilirubin(
  bilirubin: Assessment['findings']['bilirubin'],
  phrases: CardContent['cholestaticShift']['phrases'],
): string {
  if (!bilirubin.hasDirect) {
    return phrases.directBilirubinMissing;
  }
  const share =
    bilirubin.directFraction === null
      ? ''
      : ` Direct share ${Math.round(bilirubin.directFraction * 100)} %.`;
  if (bilirubin.status === 'raised') {
    return `${phrases.directBilirubinRaised}${describeLatest('total bilirubin', bilirubin.latestTotal)}${share}`;
  }
  const direct = bilirubin.latestDirect;
  if (direct !== null && direct.xUln > 1 && direct.censored !== '<' && direct.censored !== '<=') {
    return `${phrases.directBilirubinOnlyRaised}${describeLatest('direct bilirubin', direct)}`;
  }
  return '';
}

function buildPlacentalCard(recommendation: PlacentalAlpRecommendation, input: BuildCardsInput) {
  const content = input.content.placentalAlp;
  const { assessment } = input;
  const ggt = assessment.findings.ggt;
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: {
      ...summarySlotsOf(assessment),
      gestation: recommendation.explanation.gestation,
    },
    detailSlots: {
      pregnancyNote: `${content.phrases.pregnancy} On record: ${recommendation.explanation.evidence.join('; ')}.`,
      ggtInterpretation: `${content.phrases.ggt[ggt.status]}${describeLatest('GGT', ggt.latest)}`,
      tierAdvice: content.phrases.thinkAgain,
      ...evidenceSlots(assessment),
    },
    suggestions: buildSuggestions(content, recommendation, input),
    extraLinks: [],
  });
}

function buildOverlapCard(recommendation: OverlapAlpRecommendation, input: BuildCardsInput) {
  const content = input.content.overlapAlp;
  const { assessment } = input;
  const alp = recommendation.persistentAlp;
  const first = alp[0];
  const last = alp.at(-1);
  const labels = unique(
    input.context.conditions
      .filter((condition) => condition.group === 'aih')
      .map((condition) => condition.label),
  );
  const treatment =
    input.context.immunosuppressants.length > 0
      ? ` on ${unique(input.context.immunosuppressants).join(', ')}`
      : '';
  const span =
    first === undefined || last === undefined
      ? ''
      : ` ALP stayed at ${alp.map((point) => formatXUln(point.xUln)).join(', ')}×ULN from ${formatDate(first.time)} to ${formatDate(last.time)} (${alp.length} results).`;
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: summarySlotsOf(assessment),
    detailSlots: {
      tierAdvice: content.phrases.tierAdvice[recommendation.tier],
      overlapNote: `On record: ${labels.join('; ')}${treatment}.${span} ${content.phrases.overlap}\n\n${content.phrases.serology}\n\n${content.phrases.mrcp}`,
      ...evidenceSlots(assessment),
    },
    suggestions: buildSuggestions(content, recommendation, input),
    extraLinks: [],
  });
}

/** The slots every assessment-based card shows as its evidence: series, slopes, R and data quality. */
function evidenceSlots(assessment: Assessment): Record<string, string> {
  return {
    seriesTable: renderSeriesTable(assessment),
    slopes: renderSlopes(assessment),
    rRatio: renderRRatio(assessment),
    dataQuality: renderDataQuality(assessment),
    lookbackDays: String(assessment.lookbackDays),
  };
}

function buildNonHepaticCard(recommendation: NonHepaticAlpRecommendation, input: BuildCardsInput) {
  const content = input.content.nonHepaticAlp;
  const { assessment } = input;
  const ggt = assessment.findings.ggt;
  const nonHepatic = input.context.conditions.filter(
    (condition) => condition.group === 'bone' || condition.group === 'pregnancy',
  );
  const detailSlots: Record<string, string> = {
    ggtInterpretation: `${content.phrases.ggt[ggt.status]}${describeLatest('GGT', ggt.latest)}`,
    tierAdvice: content.phrases.tierAdvice[recommendation.tier],
    contextNote:
      nonHepatic.length === 0
        ? ''
        : `${content.phrases.boneContext} ${unique(nonHepatic.map((c) => c.label)).join('; ')}.`,
    ...evidenceSlots(assessment),
  };
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: summarySlotsOf(assessment),
    detailSlots,
    suggestions: buildSuggestions(content, recommendation, input),
    extraLinks: [],
  });
}

function buildTwoResultsCard(recommendation: TwoResultsRecommendation, input: BuildCardsInput) {
  const content = input.content.twoResults;
  const { assessment } = input;
  const { findings } = assessment;
  const ggt = findings.ggt;
  const { alp, aminotransferase } = recommendation;
  const detailSlots: Record<string, string> = {
    twoResults: [content.phrases.lead, describeChange(alp), describeChange(aminotransferase)].join(
      '\n',
    ),
    tierAdvice: content.phrases.tierAdvice[recommendation.tier],
    ggtInterpretation: `${content.phrases.ggt[ggt.status]}${describeLatest('GGT', ggt.latest)}`,
    bilirubinNote: findings.bilirubin.hasDirect ? '' : content.phrases.directBilirubinMissing,
    ...evidenceSlots(assessment),
  };
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: {
      alpChange: `${formatXUln(alp.first.xUln)}→${formatXUln(alp.last.xUln)}`,
      aminoChange: `${aminotransferase.analyte} ${formatXUln(aminotransferase.first.xUln)}→${formatXUln(
        aminotransferase.last.xUln,
      )}`,
    },
    detailSlots,
    suggestions: buildSuggestions(content, recommendation, input),
    extraLinks: [],
  });
}

/** "- ALP 150→480 U/L (1.3→4.0×ULN), 2026-05-10 → 2026-05-31: 6.4× its RCV". */
function describeChange(change: TwoResultChange): string {
  const { first, last } = change;
  const [unitFirst, unitLast] = [formatReportedUnit(first), formatReportedUnit(last)];
  // As the lab reported each value; the unit is named once when both share it.
  const values =
    unitFirst === unitLast
      ? `${formatValue(first)}→${formatValue(last)} ${unitLast}`
      : `${formatValue(first)} ${unitFirst}→${formatValue(last)} ${unitLast}`;
  const span =
    change.rcvMultiple === null ? '' : `: ${Math.abs(change.rcvMultiple).toFixed(1)}× its RCV`;
  return `- ${change.analyte} ${values} (${formatXUln(first.xUln)}→${formatXUln(
    last.xUln,
  )}×ULN), ${formatDate(first.time)} → ${formatDate(last.time)}${span}`;
}

function buildMedicationCard(
  recommendation: MedicationReviewRecommendation,
  input: BuildCardsInput,
) {
  const content = input.content.medicationReview;
  const [first] = recommendation.drugs;
  const more = recommendation.drugs.length - 1;
  // The summary names one drug (current ones come first) to stay under the length limit; the
  // detail lists them all, each with when it was taken.
  const drugSlot = first === undefined ? '' : truncate(first.drug.name, more > 0 ? 30 : 40);
  const drugList = recommendation.drugs
    .map(
      (match) =>
        `- **${match.drug.name}** (recorded as "${match.recordText}"; ${describeTaken(match)}): ${match.drug.pattern}. [${content.phrases.livertoxLinkLabel}](${match.drug.livertoxUrl})`,
    )
    .join('\n');
  return assembleCard(content, recommendation.tier, input, {
    summarySlots: {
      drug: more > 0 ? `${drugSlot} and ${more} more` : drugSlot,
      exposure: first === undefined ? '' : describeExposure(first.exposure),
    },
    detailSlots: {
      drugList,
      olderAdultNote: recommendation.olderAdult ? content.phrases.olderAdult : '',
      exposureWindow: describeWindow(input.content.drugs.recentExposure.days),
    },
    suggestions: [],
    extraLinks: recommendation.drugs.map((match) => ({
      label: `LiverTox: ${match.drug.name}`,
      url: match.drug.livertoxUrl,
      type: 'absolute' as const,
    })),
  });
}

/** "active", "stopped 24 days ago, on 2026-05-08", "stopped, no end date recorded (ordered 2026-04-02)". */
function describeTaken(match: MatchedDrug): string {
  const { exposure } = match;
  if (isCurrent(exposure)) {
    return describeExposure(exposure);
  }
  if (exposure.endedOn !== null) {
    return `${describeExposure(exposure)}, on ${formatDate(exposure.endedOn)}`;
  }
  const started =
    exposure.startedOn === null ? '' : ` (started or ordered ${formatDate(exposure.startedOn)})`;
  return `${exposure.status}, no end date recorded${started}`;
}

/** A window in days as a clinician says it: 183 → "6 months", 30 → "30 days". */
export function describeWindow(days: number): string {
  const months = Math.round(days / 30.44);
  return days >= 60 ? `${months} months` : `${days} days`;
}

/** The suggestions the rules chose, in the rules' order, each filled from this kind's templates. */
function buildSuggestions(
  content: CardKindContent,
  recommendation:
    | CholestaticShiftRecommendation
    | NonHepaticAlpRecommendation
    | TwoResultsRecommendation
    | PlacentalAlpRecommendation
    | OverlapAlpRecommendation,
  input: BuildCardsInput,
): NonNullable<Card['suggestions']> {
  return recommendation.suggestions.flatMap((id) =>
    content.suggestions
      .filter((template) => template.id === id)
      .map((template) =>
        buildSuggestion(template, {
          patientId: input.patientId,
          reasonObservationIds: recommendation.reasonObservationIds,
          authoredOn: input.now.toISOString(),
        }),
      ),
  );
}

interface CardParts {
  summarySlots: Record<string, string>;
  detailSlots: Record<string, string>;
  suggestions: NonNullable<Card['suggestions']>;
  extraLinks: Link[];
  /** Raises the tier's indicator to at least this one. */
  minimumIndicator?: Card['indicator'];
}

const INDICATOR_RANK: Readonly<Record<Card['indicator'], number>> = {
  info: 0,
  warning: 1,
  critical: 2,
};

function assembleCard(
  content: CardKindContent,
  tier: SeverityTier,
  input: BuildCardsInput,
  parts: CardParts,
): Card {
  // Sections whose slots all came out empty are dropped, heading included, so nothing reads "n/a".
  const detail = content.detail
    .map((section) => ({ heading: section.heading, body: fill(section.body, parts.detailSlots) }))
    .filter((section) => section.body.trim() !== '')
    .map((section) =>
      section.heading === undefined ? section.body : `**${section.heading}**\n\n${section.body}`,
    )
    .join('\n\n');
  // The trend chart comes first: it is the one link that is about this patient.
  const links: Link[] = [
    ...(input.trendLinkUrl === undefined
      ? []
      : [{ label: TREND_LINK_LABEL, url: input.trendLinkUrl, type: 'absolute' as const }]),
    ...parts.extraLinks,
    ...content.links.map((link) => ({ ...link, type: 'absolute' as const })),
  ];
  // A fresh uuid per card: feedback refers to the card by it, so it must never repeat.
  const card: Card = {
    uuid: randomUUID(),
    summary: truncate(fill(content.summary[tier], parts.summarySlots), SUMMARY_LIMIT),
    detail,
    indicator:
      parts.minimumIndicator !== undefined &&
      INDICATOR_RANK[parts.minimumIndicator] > INDICATOR_RANK[content.indicator[tier]]
        ? parts.minimumIndicator
        : content.indicator[tier],
    source: { label: content.source.label, url: content.source.url },
    overrideReasons: content.overrideReasons.map((reason) => ({ ...reason })),
    links,
  };
  // Orders are independent of one another, so a clinician may accept any combination of them.
  if (parts.suggestions.length > 0) {
    card.suggestions = parts.suggestions;
    card.selectionBehavior = 'any';
  }
  return card;
}

/** Replaces each `{{slot}}`; a slot without a value becomes empty and the spacing is tidied. */
export function fill(template: string, slots: Record<string, string>): string {
  const parts = compileTemplate(template);
  let out = parts[0] ?? '';
  // Odd indexes hold slot names, even ones the text between them; values are inserted verbatim.
  for (let i = 1; i < parts.length; i += 2) {
    out += (slots[parts[i] ?? ''] ?? '') + (parts[i + 1] ?? '');
  }
  return out
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/g, '').replace(/^ +(?=\S)/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// The templates are the reviewed content, a few dozen strings fixed at load, so each is split once
// and reused; the bound only matters if a caller passes ever-new templates.
const COMPILED_LIMIT = 512;
const compiled = new Map<string, readonly string[]>();

function compileTemplate(template: string): readonly string[] {
  let parts = compiled.get(template);
  if (parts === undefined) {
    parts = splitTemplate(template);
    if (compiled.size >= COMPILED_LIMIT) {
      compiled.clear();
    }
    compiled.set(template, parts);
  }
  return parts;
}

function summarySlotsOf(assessment: Assessment): Record<string, string> {
  const { findings } = assessment;
  const ggt = findings.ggt.latest;
  return {
    alpXUln: findings.severity === null ? '' : formatXUln(findings.severity.alpXUln),
    altDirection: describeDirection(findings.divergence.alt),
    astDirection: describeDirection(findings.divergence.ast),
    ggtXUln: ggt === null ? '' : formatXUln(ggt.xUln),
  };
}

function describeLatest(label: string, point: Assessment['findings']['ggt']['latest']): string {
  return point === null
    ? ''
    : ` Latest ${label} ${formatValue(point)} ${formatReportedUnit(point)} (${formatXUln(point.xUln)}×ULN) on ${formatDate(point.time)}.`;
}

function describeContext(context: PatientContext, content: CardContent): string {
  const phrases = content.cholestaticShift.phrases;
  const labels = unique(context.conditions.map((condition) => condition.label));
  const parts: string[] = [];
  if (labels.length > 0) {
    parts.push(`On record: ${labels.join('; ')}.`);
  }
  const unresolved = context.unresolvedMedications ?? 0;
  if (unresolved > 0) {
    parts.push(`${content.medicationReview.phrases.unresolvedMedications} (${unresolved})`);
  }
  const imaging = context.abdominalImaging;
  if (imaging !== null) {
    const conclusion = imaging.conclusion === null ? '' : ` ("${imaging.conclusion}")`;
    const reading =
      imaging.findings.length > 0
        ? phrases.imagingObstruction
        : imaging.conclusion !== null
          ? phrases.imagingClear
          : phrases.imagingUnread;
    parts.push(
      `Abdominal ultrasound on record (${formatDate(imaging.date)})${conclusion}. ${reading}`,
    );
  }
  return parts.join(' ');
}

function renderDifferential(
  recommendation: CholestaticShiftRecommendation,
  content: CardContent['cholestaticShift'],
): string {
  const causes = content.phrases.differential;
  // Diagnoses already on the record are stated as known; causes the record supports get a numbered
  // line each with the reason; the rest share one closing line.
  const known = recommendation.differential.filter((cause) => cause.known);
  const supported = recommendation.differential.filter((cause) => cause.score > 0 && !cause.known);
  const others = recommendation.differential.filter(
    (cause) => cause.score === 0 && cause.id !== 'PSC',
  );
  const lines = known.length === 0 ? [] : [content.phrases.knownLead];
  for (const cause of known) {
    lines.push(`- **${cause.reasons.join('; ')}**: ${causes[cause.id].known}`);
  }
  if (known.length > 0 && supported.length > 0) {
    lines.push('');
  }
  supported.forEach((cause, index) =>
    lines.push(
      `${index + 1}. **${causes[cause.id].label}** (${cause.reasons.join('; ')}): ${causes[cause.id].text}`,
    ),
  );
  if (others.length > 0) {
    lines.push(
      `${lines.length > 0 ? '\n' : ''}${content.phrases.otherCausesLead} ${others
        .map((cause) => causes[cause.id].label)
        .join('; ')}.`,
    );
  }
  return lines.join('\n');
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1).trimEnd()}…`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

import { createHash } from 'node:crypto';
import type { CdsService, HookInvocation, PrefetchData } from '../src/cds/service.js';
import { buildCardsFor, describeWindow } from '../src/cards/build-cards.js';
import { loadCardContent, type CardContent } from '../src/cards/load-content.js';
import { assess } from '../src/engine/assess.js';
import type { Assessment } from '../src/engine/types.js';
import { isBundle, isRecord } from '../src/fhir/guards.js';
import { applyRules } from '../src/rules/apply-rules.js';
import { explainNoCard } from '../src/rules/no-card-reason.js';
import { ABDOMINAL_ULTRASOUND_CODES, readPatientContext } from '../src/rules/patient-context.js';
import { listAnalyteLoincCodes } from '../src/terminology/analytes.js';
import { LOINC } from '../src/terminology/systems.js';

/**
 * Newest results first, enough of them for the look-back: a patient with a full liver panel every
 * day for 180 days would need more, but then the newest 200 results still decide the trend.
 */
export const LAB_RESULT_COUNT = 200;

// Pregnancy Observations ride on the lab search (one Observation query, not two): they date a
// pregnancy for the placental-ALP rule and are ignored by the engine.
const pregnancyRules = loadCardContent().contextRules.pregnancy;
const labCodes = [
  ...listAnalyteLoincCodes().map((code) => `${LOINC}|${code}`),
  ...[
    ...pregnancyRules.statusCodes,
    ...pregnancyRules.gestationalAgeCodes,
    ...pregnancyRules.estimatedDeliveryDateCodes,
    ...pregnancyRules.lastMenstrualPeriodCodes,
    ...pregnancyRules.deliveryDateCodes,
  ].map(({ system, code }) => `${system}|${code}`),
].join(',');
const imagingCodes = ABDOMINAL_ULTRASOUND_CODES.map(({ system, code }) => `${system}|${code}`).join(
  ',',
);

/** Statuses of MedicationRequest and MedicationStatement that mean the drug was taken. */
const MEDICATION_STATUSES = 'active,on-hold,completed,stopped';

/**
 * Prefetch templates. Conditions are not filtered by code: ICD-10-CM groups are matched by prefix
 * (K50 covers every Crohn code), which a FHIR token search cannot express, so the rules filter them.
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-template
 */
export const LIVER_TRENDS_PREFETCH = {
  patient: 'Patient/{{context.patientId}}',
  labs: `Observation?patient={{context.patientId}}&code=${labCodes}&_sort=-date&_count=${LAB_RESULT_COUNT}`,
  conditions: 'Condition?patient={{context.patientId}}',
  // Active orders and those stopped or completed: a drug stopped within the exposure window still
  // counts (C4). The server is asked to include each referenced Medication.
  medications: `MedicationRequest?patient={{context.patientId}}&status=${MEDICATION_STATUSES}&_include=MedicationRequest:medication`,
  medicationStatements: `MedicationStatement?patient={{context.patientId}}&status=${MEDICATION_STATUSES}&_include=MedicationStatement:medication`,
  imaging: `DiagnosticReport?patient={{context.patientId}}&code=${imagingCodes}`,
} as const;

export function createLiverTrendsService(content: CardContent = loadCardContent()): CdsService {
  return {
    definition: {
      id: 'liver-trends',
      hook: 'patient-view',
      title: 'Liver chemistry trends',
      description:
        'Flags a cholestatic shift (ALP rising while AST/ALT fall) in the liver chemistries of the ' +
        'look-back window, with severity by ALP ×ULN, a differential ranked by the record, proposed ' +
        'work-up orders and a review of drugs known to cause cholestasis (taken now or stopped ' +
        `within the last ${describeWindow(content.drugs.recentExposure.days)}).`,
      prefetch: { ...LIVER_TRENDS_PREFETCH },
    },
    async handle(invocation: HookInvocation) {
      const { data, now, lookbackDays } = invocation;
      const patient = resourcesOf(data, 'patient', 'Patient')[0] ?? null;
      const patientId = readPatientId(invocation.request.context) ?? patient?.id;
      if (patientId === undefined) {
        return { cards: [], noCardReason: 'no-patient' };
      }
      const observations = resourcesOf(data, 'labs', 'Observation');
      const assessment = assess({
        observations,
        patient,
        now,
        lookbackDays,
      });
      assessment.dataQuality.push(...(invocation.dataNotes ?? []));
      if (isSubsetted(data.labs)) {
        // The newest results came back, older ones did not: the card must say so, not hide it.
        assessment.dataQuality.push({
          code: 'incomplete-search',
          message:
            'The laboratory search was cut short (more result pages than the service follows): ' +
            'older results in the look-back window may be missing.',
        });
      }
      const context = readPatientContext(
        {
          conditions: resourcesOf(data, 'conditions', 'Condition'),
          medicationRequests: resourcesOf(data, 'medications', 'MedicationRequest'),
          medicationStatements: resourcesOf(data, 'medicationStatements', 'MedicationStatement'),
          // Included by the server, or supplied under any key by a client that prefetches itself.
          medications: Object.keys(data).flatMap((key) => resourcesOf(data, key, 'Medication')),
          imaging: [
            ...resourcesOf(data, 'imaging', 'DiagnosticReport'),
            ...resourcesOf(data, 'imaging', 'Procedure'),
          ],
          observations,
          now,
          lookbackDays,
        },
        content,
      );
      const recommendations = applyRules(assessment, context, content.contextRules);
      if (recommendations.length === 0) {
        return { cards: [], noCardReason: explainNoCard(assessment) };
      }
      const trendLinkUrl = await publishTrendLink(invocation, assessment);
      const built = buildCardsFor({
        recommendations,
        assessment,
        context,
        content,
        patientId,
        now,
        ...(trendLinkUrl === undefined ? {} : { trendLinkUrl }),
      });
      const cards = built.map(({ card }) => card);
      const issued = built.map(({ card, recommendation }) => ({
        uuid: card.uuid,
        kind: recommendation.kind,
        tier: recommendation.tier,
        fingerprint: fingerprintOf(recommendation),
      }));
      return { cards, issued: { patientId, cards: issued } };
    },
  };
}

export const liverTrendsService: CdsService = createLiverTrendsService();

/**
 * The trend page is a convenience: if it cannot be published the cards still go out, without the
 * link, rather than losing the clinical advice to a failure of the page store.
 */
async function publishTrendLink(
  invocation: HookInvocation,
  assessment: Assessment,
): Promise<string | undefined> {
  if (invocation.trendLinks === undefined) {
    return undefined;
  }
  try {
    return await invocation.trendLinks.publish(assessment);
  } catch {
    return undefined;
  }
}

/** Equal findings (kind, tier, the results and drugs behind them) give equal fingerprints. */
function fingerprintOf(recommendation: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(recommendation))
    .digest('base64url')
    .slice(0, 32);
}

/** A search result the FHIR server or the gateway marked as incomplete (FHIR's SUBSETTED tag). */
export function isSubsetted(value: fhir4.Resource | null | undefined): boolean {
  return (value?.meta?.tag ?? []).some((tag) => tag.code === 'SUBSETTED');
}

function readPatientId(context: Record<string, unknown>): string | undefined {
  const id = context.patientId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

type ResourceOf<T extends fhir4.FhirResource['resourceType']> = Extract<
  fhir4.FhirResource,
  { resourceType: T }
>;

/** The resources of one type under a prefetch key, whether it holds a Bundle or a single resource. */
export function resourcesOf<T extends fhir4.FhirResource['resourceType']>(
  data: PrefetchData,
  key: string,
  type: T,
): Array<ResourceOf<T>> {
  const value = data[key];
  if (value === null || value === undefined) {
    return [];
  }
  const candidates: unknown[] = isBundle(value)
    ? (value.entry ?? []).map((entry: unknown) => (isRecord(entry) ? entry.resource : undefined))
    : [value];
  return candidates.filter((resource): resource is ResourceOf<T> => isOfType(resource, type));
}

function isOfType(value: unknown, type: string): boolean {
  return isRecord(value) && value.resourceType === type;
}

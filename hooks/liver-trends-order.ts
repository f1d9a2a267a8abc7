import type {
  CdsService,
  CdsServiceDefinition,
  HookInvocation,
  HookResult,
  PrefetchData,
} from '../src/cds/service.js';
import { buildOrderWarningCard } from '../src/cards/build-order-card.js';
import { loadCardContent, type CardContent } from '../src/cards/load-content.js';
import { loadOrderWarningContent, type OrderWarningContent } from '../src/cards/order-content.js';
import { assess } from '../src/engine/assess.js';
import type { Assessment } from '../src/engine/types.js';
import { selectDraftMedicationOrders } from '../src/rules/draft-orders.js';
import { explainByPregnancy, readPregnancy } from '../src/rules/pregnancy.js';
import { cholestaticDrugCatalogue, matchMedication } from '../src/rules/match-medication.js';
import { judgeLiverTestsForOrder } from '../src/rules/order-warning.js';
import { isSubsetted, LIVER_TRENDS_PREFETCH, resourcesOf } from './liver-trends.js';

/**
 * The Patient, the liver chemistries and the conditions, exactly as `liver-trends` asks for them:
 * the draft order itself comes in the context, and the medication history is not needed to judge it.
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-template
 */
export const LIVER_TRENDS_ORDER_PREFETCH = {
  patient: LIVER_TRENDS_PREFETCH.patient,
  labs: LIVER_TRENDS_PREFETCH.labs,
  // Pregnancy conditions date a placental ALP rise, which is no reason to withhold a drug.
  conditions: LIVER_TRENDS_PREFETCH.conditions,
} as const;

/**
 * One handler, two discovery entries: a CDS Hooks 2.0 service has exactly one `hook` and is called
 * at `{baseUrl}/cds-services/{id}`, so each hook needs its own id.
 */
export const ORDER_SERVICE_IDS = {
  'order-sign': 'liver-trends-order-sign',
  'order-select': 'liver-trends-order-select',
} as const;

type OrderHook = keyof typeof ORDER_SERVICE_IDS;

export function createLiverTrendsOrderServices(
  content: CardContent = loadCardContent(),
  orderContent: OrderWarningContent = loadOrderWarningContent(),
): CdsService[] {
  const handle = (invocation: HookInvocation) =>
    judgeDraftOrders(invocation, content, orderContent);
  return (Object.keys(ORDER_SERVICE_IDS) as OrderHook[]).map((hook) => ({
    definition: defineOrderService(hook),
    handle,
  }));
}

function defineOrderService(hook: OrderHook): CdsServiceDefinition {
  const when =
    hook === 'order-sign'
      ? 'when draft orders are about to be signed'
      : 'when a medication order is selected (only the selected orders are judged)';
  return {
    id: ORDER_SERVICE_IDS[hook],
    hook,
    title: 'Cholestatic drug order check',
    description:
      `Warns ${when} if a draft MedicationRequest is for a drug known to cause cholestatic ` +
      'liver injury while the liver chemistries point to cholestasis (raised and rising ALP, a ' +
      'cholestatic or mixed R ratio, or a cholestatic shift), offering to remove the draft or to ' +
      'keep it with a follow-up hepatic function panel.',
    prefetch: { ...LIVER_TRENDS_ORDER_PREFETCH },
  };
}

async function judgeDraftOrders(
  invocation: HookInvocation,
  content: CardContent,
  orderContent: OrderWarningContent,
): Promise<HookResult> {
  const { request, data, now, lookbackDays } = invocation;
  const { context } = request;
  const patientId = typeof context.patientId === 'string' ? context.patientId : undefined;
  if (patientId === undefined) {
    return { cards: [], noCardReason: 'no-patient' };
  }
  const selections =
    request.hook === 'order-select' && Array.isArray(context.selections)
      ? context.selections.filter((value): value is string => typeof value === 'string')
      : undefined;
  const drafts = selectDraftMedicationOrders(
    context.draftOrders,
    selections,
    request.fhirServer === undefined
      ? { patientId }
      : { patientId, fhirServer: request.fhirServer },
  );
  const catalogue = cholestaticDrugCatalogue(content.drugs, content.drugProducts);
  const flagged = drafts.orders.flatMap((draft) => {
    const match = matchMedication(draft.medication, catalogue);
    return match === null ? [] : [{ draft, drug: match.drug }];
  });
  if (flagged.length === 0) {
    return { cards: [], noCardReason: 'not-indicated' };
  }

  const assessment = assess({
    observations: resourcesOf(data, 'labs', 'Observation'),
    patient: resourcesOf(data, 'patient', 'Patient')[0] ?? null,
    now,
    lookbackDays,
  });
  assessment.dataQuality.push(...(invocation.dataNotes ?? []));
  if (isSubsetted(data.labs)) {
    assessment.dataQuality.push({
      code: 'incomplete-search',
      message:
        'The laboratory search was cut short (more result pages than the service follows): ' +
        'older results in the look-back window may be missing.',
    });
  }
  if (drafts.otherPatientOrders > 0) {
    assessment.dataQuality.push({
      code: 'other-patient-data',
      message: `${drafts.otherPatientOrders} draft order(s) not about this patient were ignored: check the EHR feed.`,
    });
  }
  const judgement = judgeLiverTestsForOrder(assessment, orderContent);
  if (judgement === null) {
    return { cards: [], noCardReason: explainNoOrderCard(assessment, orderContent) };
  }
  if (explainsByPregnancy(data, assessment, content, now)) {
    return { cards: [], noCardReason: 'not-indicated' };
  }
  return {
    cards: flagged.map(({ draft, drug }) =>
      buildOrderWarningCard({
        drug,
        orderReference: draft.reference,
        judgement,
        assessment,
        content: orderContent,
        resolutionDays: content.drugs.recentExposure.days,
        patientId,
        now,
      }),
    ),
  };
}

/** A rise that placental ALP explains (second or third trimester, GGT not raised) is not cholestasis. */
function explainsByPregnancy(
  data: PrefetchData,
  assessment: Assessment,
  content: CardContent,
  now: Date,
): boolean {
  const rules = content.contextRules.pregnancy;
  const record = readPregnancy(
    {
      conditions: resourcesOf(data, 'conditions', 'Condition'),
      observations: resourcesOf(data, 'labs', 'Observation'),
      now,
    },
    rules,
    content.conditions,
  );
  return explainByPregnancy(assessment, record, rules) !== null;
}

function explainNoOrderCard(assessment: Assessment, orderContent: OrderWarningContent) {
  const latest = assessment.series.ALP.latest;
  if (latest === null) {
    return 'no-data' as const;
  }
  return latest.xUln <= orderContent.criteria.liverTestsRaisedAboveXUln
    ? ('within-uln' as const)
    : ('stable' as const);
}

export const liverTrendsOrderServices: CdsService[] = createLiverTrendsOrderServices();

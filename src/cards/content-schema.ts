import { z } from 'zod';

// Zod schemas for the reviewed card content in `cards/`. The content is edited by clinical
// informaticists, so every check that can fail a bad edit early lives here: unknown template slots,
// summaries that could exceed the CDS Hooks limit, point ids that do not exist.

export const POINT_IDS = [
  'P1',
  'P2',
  'P3',
  'P4',
  'C1',
  'C2',
  'C3',
  'C4',
  'C5',
  'C6',
  'W1',
  'W2',
  'W3',
  'W4',
  'W5',
  'W6',
  'W7',
  'W8',
  'X1',
  'X2',
  'X3',
  'X4',
  'S1',
  'S2',
  'S3',
] as const;
export const PointIdSchema = z.enum(POINT_IDS);
export type PointId = z.infer<typeof PointIdSchema>;

export const TIERS = ['below-5x', '5-10x', 'above-10x'] as const;
export const IndicatorSchema = z.enum(['info', 'warning', 'critical']);

export const CAUSE_IDS = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'PSC'] as const;
export type CauseId = (typeof CAUSE_IDS)[number];
export const PITFALL_IDS = ['X1', 'X2', 'X3', 'X4'] as const;
export type PitfallId = (typeof PITFALL_IDS)[number];

export const SUGGESTION_IDS = [
  'ggt',
  'fractionated-bilirubin',
  'abdominal-ultrasound',
  'mrcp',
  'autoimmune-panel',
  'bone-alp',
  'repeat-liver-panel',
] as const;
export const SuggestionIdSchema = z.enum(SUGGESTION_IDS);
export type SuggestionId = z.infer<typeof SuggestionIdSchema>;

/**
 * Slots a summary may use, with the longest value the builder can put in each. The summary check
 * fills every slot with a string of that length, so a template that passes can never exceed the limit.
 */
export const SUMMARY_SLOT_MAX_LENGTH = {
  alpXUln: 5,
  altDirection: 15,
  astDirection: 15,
  ggtXUln: 5,
  drug: 40,
  exposure: 24,
  /** "1.2→4.0" */
  alpChange: 11,
  /** "ALT 6.5→1.2" */
  aminoChange: 15,
  gestation: 24,
} as const;

export const DETAIL_SLOTS = [
  'tierAdvice',
  'ggtInterpretation',
  'bilirubinNote',
  'seriesTable',
  'slopes',
  'rRatio',
  'deRitis',
  'differential',
  'pitfalls',
  'contextNote',
  'dataQuality',
  'lookbackDays',
  'drugList',
  'olderAdultNote',
  'exposureWindow',
  'twoResults',
  'pregnancyNote',
  'overlapNote',
] as const;

/** CDS Hooks 2.0: the summary "SHALL be less than a 140-character limit". */
export const SUMMARY_LIMIT = 139;

const SLOT_PATTERN = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/** Names of the `{{slot}}`s a template uses, in order of appearance. */
export function slotsOf(template: string): string[] {
  return [...template.matchAll(SLOT_PATTERN)].map((match) => match[1] ?? '');
}

/** `[text, slot, text, slot, …, text]`: the template cut at its `{{slot}}`s, names at odd indexes. */
export function splitTemplate(template: string): string[] {
  return template.split(new RegExp(SLOT_PATTERN.source));
}

/** A template whose `{{slot}}`s are all among `allowed`. */
export function templateSchema(allowed: readonly string[]) {
  return z
    .string()
    .min(1)
    .superRefine((template, ctx) => {
      for (const slot of slotsOf(template)) {
        if (!allowed.includes(slot)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown slot {{${slot}}}; allowed here: ${allowed.join(', ') || 'none'}`,
          });
        }
      }
    });
}

/** A summary template that stays within the spec's limit with every slot at its longest value. */
export function summaryTemplateSchema(slotMaxLengths: Readonly<Record<string, number>>) {
  return templateSchema(Object.keys(slotMaxLengths)).superRefine((template, ctx) => {
    const worstCase = template.replace(SLOT_PATTERN, (_match, slot: string) =>
      'x'.repeat(slotMaxLengths[slot] ?? 0),
    );
    if (worstCase.length > SUMMARY_LIMIT) {
      ctx.addIssue({
        code: 'custom',
        message: `summary can reach ${worstCase.length} characters once its slots are filled; the limit is ${SUMMARY_LIMIT}`,
      });
    }
  });
}

const detailTemplateSchema = templateSchema(DETAIL_SLOTS);
const plainTextSchema = templateSchema([]);

const tierRecord = <T extends z.ZodType>(value: T) =>
  z.object({ 'below-5x': value, '5-10x': value, 'above-10x': value }).strict();

export const CodingSchema = z
  .object({
    system: z.url(),
    code: z.string().min(1),
    display: z.string().min(1),
  })
  .strict();
export type ContentCoding = z.infer<typeof CodingSchema>;

export const LinkSchema = z
  .object({
    label: z.string().min(1),
    url: z.url(),
  })
  .strict();

export const SourceSchema = z
  .object({
    label: z.string().min(1),
    url: z.url(),
  })
  .strict();

const OrderSchema = z
  .object({
    /** Shown as the action's description and as ServiceRequest.code.text. */
    text: plainTextSchema,
    category: CodingSchema,
    codings: z.array(CodingSchema).min(1),
    /** Why a code system is missing or a code was chosen, for reviewers (not shown to clinicians). */
    codingNote: z.string().optional(),
  })
  .strict();

export const SuggestionTemplateSchema = z
  .object({
    id: SuggestionIdSchema,
    label: plainTextSchema,
    covers: z.array(PointIdSchema).min(1),
    /** One ServiceRequest per order; a suggestion with several orders is accepted in one click. */
    orders: z.array(OrderSchema).min(1),
  })
  .strict();
export type SuggestionTemplate = z.infer<typeof SuggestionTemplateSchema>;

const commonShape = {
  title: z.string().min(1),
  covers: z.array(PointIdSchema).min(1),
  indicator: tierRecord(IndicatorSchema),
  summary: tierRecord(summaryTemplateSchema(SUMMARY_SLOT_MAX_LENGTH)),
  detail: z
    .array(
      z
        .object({
          heading: z.string().min(1).optional(),
          body: detailTemplateSchema,
        })
        .strict(),
    )
    .min(1),
  source: SourceSchema,
  links: z.array(LinkSchema).min(1),
  suggestions: z.array(SuggestionTemplateSchema),
  overrideReasons: z.array(CodingSchema).min(1),
};

const causeSchema = z
  .object({
    label: plainTextSchema,
    text: plainTextSchema,
    /** Shown instead of `text` when the cause is already on the record: stated, not suggested. */
    known: plainTextSchema,
    covers: z.array(PointIdSchema).min(1),
  })
  .strict();

const pitfallSchema = z
  .object({ text: plainTextSchema, covers: z.array(PointIdSchema).min(1) })
  .strict();

const ggtPhrasesSchema = z
  .object({ 'none-in-window': plainTextSchema, normal: plainTextSchema, raised: plainTextSchema })
  .strict();

export const CholestaticShiftContentSchema = z
  .object({
    kind: z.literal('cholestatic-shift'),
    ...commonShape,
    /** The least indicator once imaging has found the obstruction: not a "repeat in 2–4 weeks" (X3). */
    obstructionIndicator: IndicatorSchema,
    phrases: z
      .object({
        tierAdvice: tierRecord(plainTextSchema),
        ggt: ggtPhrasesSchema,
        directBilirubinMissing: plainTextSchema,
        directBilirubinRaised: plainTextSchema,
        deRitisAtLeastOne: plainTextSchema,
        deRitisAlcohol: plainTextSchema,
        directBilirubinOnlyRaised: plainTextSchema,
        knownLead: plainTextSchema,
        imagingObstruction: plainTextSchema,
        imagingClear: plainTextSchema,
        imagingUnread: plainTextSchema,
        pregnancyNotPlacental: plainTextSchema,
        otherCausesLead: plainTextSchema,
        differential: z
          .object({
            C1: causeSchema,
            C2: causeSchema,
            C3: causeSchema,
            C4: causeSchema,
            C5: causeSchema,
            C6: causeSchema,
            PSC: causeSchema,
          })
          .strict(),
        pitfalls: z
          .object({ X1: pitfallSchema, X2: pitfallSchema, X3: pitfallSchema, X4: pitfallSchema })
          .strict(),
      })
      .strict(),
  })
  .strict();

export const NonHepaticAlpContentSchema = z
  .object({
    kind: z.literal('non-hepatic-alp'),
    ...commonShape,
    phrases: z
      .object({
        tierAdvice: tierRecord(plainTextSchema),
        ggt: ggtPhrasesSchema,
        boneContext: plainTextSchema,
      })
      .strict(),
  })
  .strict();

export const MedicationReviewContentSchema = z
  .object({
    kind: z.literal('medication-review'),
    ...commonShape,
    phrases: z
      .object({
        olderAdult: plainTextSchema,
        livertoxLinkLabel: plainTextSchema,
        /** On the shift card when medication records could not be checked (reference not supplied). */
        unresolvedMedications: plainTextSchema,
      })
      .strict(),
  })
  .strict();

export const TwoResultsContentSchema = z
  .object({
    kind: z.literal('two-results'),
    ...commonShape,
    phrases: z
      .object({
        lead: plainTextSchema,
        tierAdvice: tierRecord(plainTextSchema),
        ggt: ggtPhrasesSchema,
        directBilirubinMissing: plainTextSchema,
      })
      .strict(),
  })
  .strict();

export const PlacentalAlpContentSchema = z
  .object({
    kind: z.literal('placental-alp'),
    ...commonShape,
    phrases: z
      .object({
        pregnancy: plainTextSchema,
        ggt: ggtPhrasesSchema,
        thinkAgain: plainTextSchema,
      })
      .strict(),
  })
  .strict();

export const OverlapAlpContentSchema = z
  .object({
    kind: z.literal('overlap-alp'),
    ...commonShape,
    phrases: z
      .object({
        tierAdvice: tierRecord(plainTextSchema),
        overlap: plainTextSchema,
        serology: plainTextSchema,
        mrcp: plainTextSchema,
      })
      .strict(),
  })
  .strict();

export const CardKindContentSchema = z.discriminatedUnion('kind', [
  CholestaticShiftContentSchema,
  NonHepaticAlpContentSchema,
  MedicationReviewContentSchema,
  TwoResultsContentSchema,
  PlacentalAlpContentSchema,
  OverlapAlpContentSchema,
]);
export type PlacentalAlpContent = z.infer<typeof PlacentalAlpContentSchema>;
export type OverlapAlpContent = z.infer<typeof OverlapAlpContentSchema>;
export type TwoResultsContent = z.infer<typeof TwoResultsContentSchema>;
export type CholestaticShiftContent = z.infer<typeof CholestaticShiftContentSchema>;
export type NonHepaticAlpContent = z.infer<typeof NonHepaticAlpContentSchema>;
export type MedicationReviewContent = z.infer<typeof MedicationReviewContentSchema>;
export type CardKindContent = z.infer<typeof CardKindContentSchema>;
export type CardKind = CardKindContent['kind'];

/** Verification status carried over from the clinical reference (V verified, P partly, U unverified). */
const VerificationSchema = z.enum(['V', 'P', 'U']);

const codeRefSchema = z
  .object({ code: z.string().min(1), display: z.string().min(1), status: VerificationSchema })
  .strict();

export const CONDITION_GROUP_IDS = [
  'ibd',
  'psc',
  'pbc',
  'aih',
  'hbv',
  'alcohol',
  'cirrhosis',
  'malignancy',
  'infiltrative',
  'nash',
  'stones',
  'bone',
  'pregnancy',
] as const;
export const ConditionGroupIdSchema = z.enum(CONDITION_GROUP_IDS);
export type ConditionGroupId = z.infer<typeof ConditionGroupIdSchema>;

export const ConditionListSchema = z
  .object({
    /** ICD-10-CM codes match by prefix after removing dots: "K50" matches "K50.90". */
    icdSystems: z.array(z.url()).min(1),
    snomedSystem: z.url(),
    groups: z
      .array(
        z
          .object({
            id: ConditionGroupIdSchema,
            label: z.string().min(1),
            snomed: z.array(codeRefSchema),
            icd10cmPrefixes: z.array(
              codeRefSchema.extend({ code: z.string().regex(/^[A-Z][0-9][0-9A-Z.]*$/) }),
            ),
          })
          .strict(),
      )
      .min(1),
  })
  .strict()
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.groups.forEach((group, index) => {
      if (seen.has(group.id)) {
        ctx.addIssue({ code: 'custom', path: ['groups', index, 'id'], message: 'duplicate id' });
      }
      seen.add(group.id);
    });
    for (const id of CONDITION_GROUP_IDS) {
      if (!seen.has(id)) {
        ctx.addIssue({ code: 'custom', path: ['groups'], message: `missing group "${id}"` });
      }
    }
  });
export type ConditionList = z.infer<typeof ConditionListSchema>;

const drugEntrySchema = z
  .object({
    name: z.string().min(1),
    /** RxNorm ingredient (IN) or multiple-ingredient (MIN) codes; only codes verified in a source. */
    rxcui: z.array(z.string().regex(/^[0-9]+$/)),
    /** Every term must appear (as the start of a word) in the medication's text or display. */
    nameTerms: z.array(z.string().min(3)).min(1),
    /** Alternative names (brand, British Approved Name); any one of them matches on its own. */
    synonyms: z.array(z.string().min(3)),
    pattern: z.string().min(1),
    livertoxUrl: z.url(),
    sources: z.array(z.string().regex(/^S[0-9]+[a-z]?$/)).min(1),
  })
  .strict();
export type DrugEntry = z.infer<typeof drugEntrySchema>;

export const DrugListSchema = z
  .object({
    rxnormSystem: z.url(),
    /** How long after stopping a drug still counts as a possible cause (C4: about six months). */
    recentExposure: z
      .object({
        days: z.number().int().min(1).max(730),
        source: PointIdSchema,
        note: z.string().min(1),
      })
      .strict(),
    cholestatic: z.array(drugEntrySchema).min(1),
    /** Used only to rank the overlap syndrome (C3): AIH with ALP rising on immunosuppression. */
    immunosuppressants: z.array(
      drugEntrySchema.pick({ name: true, rxcui: true, nameTerms: true, synonyms: true }),
    ),
  })
  .strict();
export type DrugList = z.infer<typeof DrugListSchema>;

/** Verification of a product code, as in the clinical reference; an unverified code is not usable. */
const ProductStatusSchema = z.enum(['V', 'P']);

/**
 * Product-level RxNorm codes and brand names of the listed ingredients (`cards/cholestatic-drug-products.json`):
 * EHRs code orders as clinical or branded drugs (SCD/SBD), which only RxNorm maps to ingredients.
 */
export const DrugProductTableSchema = z
  .object({
    rxnormSystem: z.url(),
    source: z.string().min(1),
    reviewed: z.iso.date(),
    products: z.array(
      z
        .object({
          drug: z.string().min(1),
          rxcui: z.string().regex(/^[0-9]+$/),
          tty: z.enum(['IN', 'MIN', 'SCD', 'SBD', 'GPCK', 'BPCK']),
          name: z.string().min(1),
          status: ProductStatusSchema,
          evidence: z.string().min(1),
        })
        .strict(),
    ),
    brands: z.array(
      z
        .object({
          drug: z.string().min(1),
          names: z.array(z.string().min(3)).min(1),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((table, ctx) => {
    const seen = new Set<string>();
    table.products.forEach((product, index) => {
      if (seen.has(product.rxcui)) {
        ctx.addIssue({
          code: 'custom',
          path: ['products', index, 'rxcui'],
          message: `RxCUI ${product.rxcui} is listed twice`,
        });
      }
      seen.add(product.rxcui);
    });
  });
export type DrugProductTable = z.infer<typeof DrugProductTableSchema>;
const reviewedCodingSchema = CodingSchema.extend({ status: VerificationSchema });
const regexSchema = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, 'iu');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${String(error)}` });
  }
});

export const IMAGING_FINDING_IDS = ['duct-stone', 'duct-dilatation'] as const;
export type ImagingFindingId = (typeof IMAGING_FINDING_IDS)[number];

/** Reviewed numbers and code lists the context rules use (classes of findings beyond the labs). */
export const ContextRulesSchema = z
  .object({
    deRitis: z.object({ alcoholAbove: z.number().positive(), source: z.string() }).strict(),
    overlap: z
      .object({
        persistentAlpAboveXUln: z.number().positive(),
        minSpanDays: z.number().nonnegative(),
        minResults: z.number().int().min(2),
        source: z.string(),
      })
      .strict(),
    imaging: z
      .object({
        findings: z
          .array(
            z
              .object({
                id: z.enum(IMAGING_FINDING_IDS),
                label: z.string().min(1),
                /** Case-insensitive regular expressions run on each clause of the conclusion. */
                textPatterns: z.array(regexSchema).min(1),
                /** conclusionCode codings; ICD-10-CM entries match by prefix, others exactly. */
                codes: z.array(reviewedCodingSchema),
              })
              .strict(),
          )
          .min(1),
        negationCues: z.array(regexSchema),
        negationAfterCues: z.array(regexSchema),
        uncertaintyCues: z.array(regexSchema),
        negationWindowWords: z.number().int().positive(),
        source: z.string(),
      })
      .strict(),
    pregnancy: z
      .object({
        secondTrimesterFromWeek: z.number().positive(),
        maxGestationWeeks: z.number().positive(),
        estimatedDeliveryAtDays: z.number().positive(),
        placentalMaxXUln: z.number().positive(),
        placentalHalfLifeDays: z.number().positive(),
        statusCodes: z.array(reviewedCodingSchema).min(1),
        pregnantValues: z.array(reviewedCodingSchema).min(1),
        notPregnantValues: z.array(reviewedCodingSchema).min(1),
        gestationalAgeCodes: z.array(reviewedCodingSchema),
        estimatedDeliveryDateCodes: z.array(reviewedCodingSchema),
        lastMenstrualPeriodCodes: z.array(reviewedCodingSchema),
        deliveryDateCodes: z.array(reviewedCodingSchema),
        deliveryConditions: z
          .object({ snomed: z.array(codeRefSchema), icd10cmPrefixes: z.array(codeRefSchema) })
          .strict(),
        gestationWeeksIcdPrefix: codeRefSchema,
        source: z.string(),
      })
      .strict(),
  })
  .strict();
export type ContextRules = z.infer<typeof ContextRulesSchema>;

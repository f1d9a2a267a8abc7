import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import {
  CholestaticShiftContentSchema,
  ConditionListSchema,
  ContextRulesSchema,
  OverlapAlpContentSchema,
  PlacentalAlpContentSchema,
  DrugListSchema,
  DrugProductTableSchema,
  MedicationReviewContentSchema,
  NonHepaticAlpContentSchema,
  TwoResultsContentSchema,
  type CholestaticShiftContent,
  type ConditionList,
  type ContextRules,
  type DrugList,
  type DrugProductTable,
  type OverlapAlpContent,
  type PlacentalAlpContent,
  type MedicationReviewContent,
  type NonHepaticAlpContent,
  type SuggestionId,
  type TwoResultsContent,
} from './content-schema.js';

/** Everything in `cards/`, validated. Built once at start-up and passed to the rules and builders. */
export interface CardContent {
  cholestaticShift: CholestaticShiftContent;
  nonHepaticAlp: NonHepaticAlpContent;
  medicationReview: MedicationReviewContent;
  twoResults: TwoResultsContent;
  placentalAlp: PlacentalAlpContent;
  overlapAlp: OverlapAlpContent;
  conditions: ConditionList;
  drugs: DrugList;
  drugProducts: DrugProductTable;
  contextRules: ContextRules;
}

export const CONTENT_FILES = {
  cholestaticShift: 'cholestatic-shift.json',
  nonHepaticAlp: 'non-hepatic-alp.json',
  medicationReview: 'medication-review.json',
  twoResults: 'two-results.json',
  placentalAlp: 'placental-alp.json',
  overlapAlp: 'overlap-alp.json',
  conditions: 'conditions.json',
  drugs: 'cholestatic-drugs.json',
  drugProducts: 'cholestatic-drug-products.json',
  contextRules: 'context-rules.json',
} as const;

/** The suggestions the rules can ask each card kind for; a content file must define all of them. */
const REQUIRED_SUGGESTIONS = {
  cholestaticShift: [
    'ggt',
    'fractionated-bilirubin',
    'abdominal-ultrasound',
    'mrcp',
    'autoimmune-panel',
  ],
  nonHepaticAlp: ['bone-alp'],
  medicationReview: [],
  twoResults: ['repeat-liver-panel', 'ggt', 'fractionated-bilirubin', 'abdominal-ultrasound'],
  placentalAlp: ['ggt'],
  overlapAlp: ['ggt', 'abdominal-ultrasound', 'mrcp', 'autoimmune-panel'],
} as const satisfies Record<string, readonly SuggestionId[]>;

/** A content file is missing, is not JSON, or breaks the schema; the message names file and field. */
export class CardContentError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid card content in cards/${file}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CardContentError';
  }
}

/**
 * Reads and validates the card content. Throws `CardContentError` on the first bad file, so a bad
 * edit stops the service at start-up (and fails CI) instead of failing a request.
 */
export function loadCardContent(dir: string = findCardsDir()): CardContent {
  const read = (file: string): unknown => {
    const path = join(dir, file);
    if (!existsSync(path)) {
      throw new CardContentError(file, [`file not found at ${path}`]);
    }
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new CardContentError(file, [`not valid JSON: ${String(error)}`]);
    }
  };
  return parseCardContent({
    cholestaticShift: read(CONTENT_FILES.cholestaticShift),
    nonHepaticAlp: read(CONTENT_FILES.nonHepaticAlp),
    medicationReview: read(CONTENT_FILES.medicationReview),
    twoResults: read(CONTENT_FILES.twoResults),
    placentalAlp: read(CONTENT_FILES.placentalAlp),
    overlapAlp: read(CONTENT_FILES.overlapAlp),
    conditions: read(CONTENT_FILES.conditions),
    drugs: read(CONTENT_FILES.drugs),
    drugProducts: read(CONTENT_FILES.drugProducts),
    contextRules: read(CONTENT_FILES.contextRules),
  });
}

/** Validates already-parsed content files (the pure half of `loadCardContent`). */
export function parseCardContent(raw: Record<keyof CardContent, unknown>): CardContent {
  const content: CardContent = {
    cholestaticShift: parseFile(
      CholestaticShiftContentSchema,
      raw.cholestaticShift,
      'cholestaticShift',
    ),
    nonHepaticAlp: parseFile(NonHepaticAlpContentSchema, raw.nonHepaticAlp, 'nonHepaticAlp'),
    medicationReview: parseFile(
      MedicationReviewContentSchema,
      raw.medicationReview,
      'medicationReview',
    ),
    placentalAlp: parseFile(PlacentalAlpContentSchema, raw.placentalAlp, 'placentalAlp'),
    overlapAlp: parseFile(OverlapAlpContentSchema, raw.overlapAlp, 'overlapAlp'),
    conditions: parseFile(ConditionListSchema, raw.conditions, 'conditions'),
    drugs: parseFile(DrugListSchema, raw.drugs, 'drugs'),
    drugProducts: parseFile(DrugProductTableSchema, raw.drugProducts, 'drugProducts'),
    twoResults: parseFile(TwoResultsContentSchema, raw.twoResults, 'twoResults'),
    contextRules: parseFile(ContextRulesSchema, raw.contextRules, 'contextRules'),
  };
  checkProductTable(content.drugs, content.drugProducts);
  for (const key of [
    'cholestaticShift',
    'nonHepaticAlp',
    'medicationReview',
    'twoResults',
    'placentalAlp',
    'overlapAlp',
  ] as const) {
    const ids = content[key].suggestions.map((suggestion) => suggestion.id);
    const problems = [
      ...REQUIRED_SUGGESTIONS[key]
        .filter((id) => !ids.includes(id))
        .map((id) => `suggestions: missing the "${id}" suggestion the rules can ask for`),
      ...ids
        .filter((id, index) => ids.indexOf(id) !== index)
        .map((id) => `suggestions: "${id}" appears more than once`),
    ];
    if (problems.length > 0) {
      throw new CardContentError(CONTENT_FILES[key], problems);
    }
  }
  return content;
}

/** Every product and brand must name a listed drug, and a product code must not be an ingredient's. */
function checkProductTable(drugs: DrugList, table: DrugProductTable): void {
  const names = new Set(drugs.cholestatic.map((drug) => drug.name));
  const ingredientCodes = new Map(
    drugs.cholestatic.flatMap((drug) => drug.rxcui.map((code) => [code, drug.name] as const)),
  );
  const problems = [
    ...(table.rxnormSystem === drugs.rxnormSystem
      ? []
      : [`rxnormSystem: must be ${drugs.rxnormSystem}, as in ${CONTENT_FILES.drugs}`]),
    ...[...table.products, ...table.brands]
      .filter((entry) => !names.has(entry.drug))
      .map((entry) => `"${entry.drug}" is not a drug in ${CONTENT_FILES.drugs}`),
    ...table.products
      .filter((product) => (ingredientCodes.get(product.rxcui) ?? product.drug) !== product.drug)
      .map(
        (product) =>
          `RxCUI ${product.rxcui} is listed for "${product.drug}" but is the ingredient code of "${ingredientCodes.get(product.rxcui) ?? ''}"`,
      ),
  ];
  if (problems.length > 0) {
    throw new CardContentError(CONTENT_FILES.drugProducts, problems);
  }
}

function parseFile<T extends z.ZodType>(
  schema: T,
  value: unknown,
  key: keyof typeof CONTENT_FILES,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new CardContentError(
      CONTENT_FILES[key],
      result.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * `cards/` sits at the repository root, outside `src/` and `dist/`, so it is found by walking up
 * from this module: two levels when run from source, three when run from `dist/src/cards`.
 */
export function findCardsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(dir, 'cards');
    if (existsSync(join(candidate, CONTENT_FILES.cholestaticShift))) {
      return candidate;
    }
    dir = resolve(dir, '..');
  }
  throw new CardContentError(CONTENT_FILES.cholestaticShift, [
    'could not find the cards/ directory above the service code; pass its path to loadCardContent',
  ]);
}

import type { DrugEntry, DrugList, DrugProductTable } from '../cards/content-schema.js';
import { isRecord } from '../fhir/guards.js';

/** The parts of a drug entry that matching needs (cholestatic drugs and immunosuppressants alike). */
export interface MatchableDrug {
  name: string;
  rxcui: string[];
  nameTerms: string[];
  synonyms: string[];
}

/** One medication as a record describes it: every coding and every text found for it. */
export interface MedicationDescription {
  codings: fhir4.Coding[];
  texts: string[];
}

export type MatchedBy = 'rxnorm' | 'rxnorm-product' | 'ingredient' | 'name' | 'brand';

/**
 * The reviewed drug list joined with the product table (RxNorm product codes and brand names of
 * the listed ingredients), indexed once so that matching one medication is a few map lookups.
 */
export interface DrugCatalogue<T extends MatchableDrug> {
  drugs: readonly T[];
  rxnormSystem: string;
  /** Product-level RxCUI (SCD, SBD, …) → drug. */
  productCodes: ReadonlyMap<string, T>;
  /** Normalised brand name → drug. */
  brands: ReadonlyArray<{ brand: string; drug: T }>;
}

export function buildDrugCatalogue<T extends MatchableDrug>(
  drugs: readonly T[],
  rxnormSystem: DrugList['rxnormSystem'],
  products?: DrugProductTable,
): DrugCatalogue<T> {
  const byName = new Map(drugs.map((drug) => [drug.name, drug]));
  const productCodes = new Map<string, T>();
  const brands: Array<{ brand: string; drug: T }> = [];
  for (const product of products?.products ?? []) {
    const drug = byName.get(product.drug);
    if (drug !== undefined) {
      productCodes.set(product.rxcui, drug);
    }
  }
  for (const entry of products?.brands ?? []) {
    const drug = byName.get(entry.drug);
    if (drug !== undefined) {
      brands.push(...entry.names.map((brand) => ({ brand: normaliseName(brand), drug })));
    }
  }
  return { drugs, rxnormSystem, productCodes, brands };
}

// One index per reviewed drug list (built at start-up, so the cache holds one or two entries).
const catalogues = new WeakMap<DrugList, DrugCatalogue<DrugEntry>>();

/** The cholestatic drugs with their product codes and brands, indexed once per loaded content. */
export function cholestaticDrugCatalogue(
  drugs: DrugList,
  products: DrugProductTable | undefined,
): DrugCatalogue<DrugEntry> {
  let catalogue = catalogues.get(drugs);
  if (catalogue === undefined) {
    catalogue = buildDrugCatalogue(drugs.cholestatic, drugs.rxnormSystem, products);
    catalogues.set(drugs, catalogue);
  }
  return catalogue;
}

/**
 * Matches one medication (a coded concept, a Medication's code and ingredients, free text) against
 * the catalogue: an RxNorm ingredient code of a listed drug, then a product code from the product
 * table, then the ingredient names, then a brand name as a whole word. EHRs mostly code orders at
 * product level (SCD/SBD), which only RxNorm itself maps to ingredients, hence the offline table.
 */
export function matchMedication<T extends MatchableDrug>(
  medication: MedicationDescription,
  catalogue: DrugCatalogue<T>,
): { drug: T; matchedBy: MatchedBy } | null {
  const rxcuis = medication.codings
    .filter((coding) => coding.system === catalogue.rxnormSystem && typeof coding.code === 'string')
    .map((coding) => coding.code?.trim() ?? '');
  const byCode = catalogue.drugs.find((drug) => drug.rxcui.some((code) => rxcuis.includes(code)));
  if (byCode !== undefined) {
    return { drug: byCode, matchedBy: 'rxnorm' };
  }
  for (const code of rxcuis) {
    const drug = catalogue.productCodes.get(code);
    if (drug !== undefined) {
      return { drug, matchedBy: 'rxnorm-product' };
    }
  }
  const text = normaliseName(
    [...medication.texts, ...medication.codings.map((coding) => coding.display ?? '')].join(' | '),
  );
  const byName = catalogue.drugs.find(
    (drug) =>
      drug.nameTerms.every((term) => containsWordStart(text, term)) ||
      drug.synonyms.some((synonym) => containsWordStart(text, synonym)),
  );
  if (byName !== undefined) {
    return { drug: byName, matchedBy: 'name' };
  }
  const byBrand = catalogue.brands.find(({ brand }) => text.includes(brand));
  return byBrand === undefined ? null : { drug: byBrand.drug, matchedBy: 'brand' };
}

/** The older entry point: ingredient codes and names only, no product table. */
export function matchDrug<T extends MatchableDrug>(
  medication: MedicationDescription,
  drugs: readonly T[],
  rxnormSystem: DrugList['rxnormSystem'],
): { drug: T; matchedBy: MatchedBy } | null {
  return matchMedication(medication, buildDrugCatalogue(drugs, rxnormSystem));
}

/** A CodeableConcept as a description: its codings and its text. */
export function describeConcept(concept: fhir4.CodeableConcept | undefined): MedicationDescription {
  return { codings: codingsOf(concept), texts: textsOf(concept) };
}

/**
 * A Medication resource as a description: its code, its ingredients' codes and texts (an SBD may
 * carry no display but list its ingredients), and the display of the reference that pointed to it.
 */
export function describeMedicationResource(
  medication: fhir4.Medication,
  referenceDisplay?: string,
): MedicationDescription {
  const code = describeConcept(medication.code);
  const ingredients: unknown = medication.ingredient;
  const ingredientConcepts = (Array.isArray(ingredients) ? ingredients : []).flatMap((entry) =>
    isRecord(entry) && isRecord(entry.itemCodeableConcept)
      ? [describeConcept(entry.itemCodeableConcept as fhir4.CodeableConcept)]
      : [],
  );
  return {
    codings: [...code.codings, ...ingredientConcepts.flatMap((c) => c.codings)],
    texts: [
      ...code.texts,
      ...ingredientConcepts.flatMap((c) => c.texts),
      ...(referenceDisplay === undefined ? [] : [referenceDisplay]),
    ],
  };
}

function codingsOf(concept: fhir4.CodeableConcept | undefined): fhir4.Coding[] {
  const codings: unknown = isRecord(concept) ? concept.coding : undefined;
  return Array.isArray(codings) ? codings.filter((c): c is fhir4.Coding => isRecord(c)) : [];
}

function textsOf(concept: fhir4.CodeableConcept | undefined): string[] {
  return isRecord(concept) && typeof concept.text === 'string' && concept.text !== ''
    ? [concept.text]
    : [];
}

function normaliseName(value: string): string {
  return ` ${value
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()} `;
}

function containsWordStart(normalisedText: string, term: string): boolean {
  return normalisedText.includes(normaliseName(term).trimEnd());
}

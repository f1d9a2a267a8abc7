import type { DrugList } from '../cards/content-schema.js';

/** The parts of a drug entry that matching needs (cholestatic drugs and immunosuppressants alike). */
export interface MatchableDrug {
  name: string;
  rxcui: string[];
  nameTerms: string[];
  synonyms: string[];
}

export interface MedicationDescription {
  codings: fhir4.Coding[];
  texts: string[];
}

/**
 * Matches by RxNorm code first, then by name. Most EHRs code orders with a clinical-drug RxCUI (SCD/SBD)
 * rather than the ingredient's, and mapping one to the other needs RxNorm itself, so the name match
 * (every `nameTerms` entry at the start of a word, or any synonym) is what usually fires.
 */
export function matchDrug<T extends MatchableDrug>(
  medication: MedicationDescription,
  drugs: readonly T[],
  rxnormSystem: DrugList['rxnormSystem'],
): { drug: T; matchedBy: 'rxnorm' | 'name' } | null {
  const rxcuis = medication.codings
    .filter((coding) => coding.system === rxnormSystem && typeof coding.code === 'string')
    .map((coding) => coding.code);
  const byCode = drugs.find((drug) => drug.rxcui.some((code) => rxcuis.includes(code)));
  if (byCode !== undefined) {
    return { drug: byCode, matchedBy: 'rxnorm' };
  }
  const text = normaliseName(
    [...medication.texts, ...medication.codings.map((coding) => coding.display ?? '')].join(' | '),
  );
  const byName = drugs.find(
    (drug) =>
      drug.nameTerms.every((term) => containsWordStart(text, term)) ||
      drug.synonyms.some((synonym) => containsWordStart(text, synonym)),
  );
  return byName === undefined ? null : { drug: byName, matchedBy: 'name' };
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

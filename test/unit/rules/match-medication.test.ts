import { loadCardContent } from '../../../src/cards/load-content.js';
import {
  buildDrugCatalogue,
  describeConcept,
  describeMedicationResource,
  matchMedication,
  type MedicationDescription,
} from '../../../src/rules/match-medication.js';
import { readExposure } from '../../../src/rules/patient-context.js';
import { RXNORM } from '../../../src/terminology/systems.js';

const content = loadCardContent();
const catalogue = buildDrugCatalogue(
  content.drugs.cholestatic,
  content.drugs.rxnormSystem,
  content.drugProducts,
);
const NOW = new Date('2026-06-01T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();

const coded = (code: string, system = RXNORM): MedicationDescription =>
  describeConcept({ coding: [{ system, code }] });
const text = (value: string): MedicationDescription => describeConcept({ text: value });

describe('matchMedication (one medication against the reviewed list and product table)', () => {
  it.each<[string, MedicationDescription, string | null, string | null]>([
    [
      'an SCD code with no display (TMP-SMX 800/160 tablet)',
      coded('198335'),
      'sulfamethoxazole–trimethoprim',
      'rxnorm-product',
    ],
    [
      'an SCD code of amoxicillin–clavulanate 875/125',
      coded('562508'),
      'amoxicillin–clavulanate',
      'rxnorm-product',
    ],
    ['an ingredient code (azathioprine 1256)', coded('1256'), 'azathioprine', 'rxnorm'],
    [
      'a product code under another system (an NDC that happens to read 198335)',
      coded('198335', 'http://hl7.org/fhir/sid/ndc'),
      null,
      null,
    ],
    [
      'a brand name in free text',
      text('Bactrim DS 1 tab BID'),
      'sulfamethoxazole–trimethoprim',
      'brand',
    ],
    ['a brand name with a strength', text('Augmentin 875'), 'amoxicillin–clavulanate', 'brand'],
    ['an anabolic steroid by brand', text('Winstrol 10 mg'), 'stanozolol', 'brand'],
    ['an anabolic steroid by ingredient', text('Oxandrolone 2.5 mg tablet'), 'oxandrolone', 'name'],
    ['a brand only as the start of another word', text('Ciprodex otic drops'), null, null],
    ['amoxicillin alone', text('amoxicillin 500 MG Oral Capsule'), null, null],
    ['an unknown code and no text', coded('999999999'), null, null],
  ])('When the medication is %s, matches %s', (_title, medication, drug, matchedBy) => {
    const match = matchMedication(medication, catalogue);
    expect(match === null ? null : [match.drug.name, match.matchedBy]).toEqual(
      drug === null ? null : [drug, matchedBy],
    );
  });

  it('When a Medication has an unknown branded code but lists its ingredients, matches by the ingredient code', () => {
    const medication = describeMedicationResource({
      resourceType: 'Medication',
      code: { coding: [{ system: RXNORM, code: '999999999' }] },
      ingredient: [
        { itemCodeableConcept: { coding: [{ system: RXNORM, code: '10180' }] } },
        { itemCodeableConcept: { coding: [{ system: RXNORM, code: '10829' }] } },
      ],
    });
    expect(matchMedication(medication, catalogue)?.drug.name).toBe('sulfamethoxazole–trimethoprim');
  });
});

describe('readExposure (C4: counts while taken and for the exposure window after)', () => {
  const window = content.drugs.recentExposure.days;
  const statement = (extra: Partial<fhir4.MedicationStatement>): fhir4.MedicationStatement => ({
    resourceType: 'MedicationStatement',
    status: 'completed',
    subject: { reference: 'Patient/p' },
    medicationCodeableConcept: { text: 'x' },
    ...extra,
  });
  const order = (extra: Partial<fhir4.MedicationRequest>): fhir4.MedicationRequest => ({
    resourceType: 'MedicationRequest',
    status: 'stopped',
    intent: 'order',
    subject: { reference: 'Patient/p' },
    medicationCodeableConcept: { text: 'x' },
    ...extra,
  });

  it.each<[string, fhir4.MedicationStatement | fhir4.MedicationRequest, unknown]>([
    [
      'a statement completed 10 days ago',
      statement({ effectivePeriod: { end: daysAgo(10) } }),
      { status: 'completed', daysSinceEnd: 10 },
    ],
    [
      'a statement taken once 12 days ago',
      statement({ effectiveDateTime: daysAgo(12) }),
      { status: 'completed', daysSinceEnd: 12 },
    ],
    [
      'a statement completed 200 days ago',
      statement({ effectivePeriod: { end: daysAgo(200) } }),
      null,
    ],
    [
      'a not-taken statement',
      statement({ status: 'not-taken', effectiveDateTime: daysAgo(3) }),
      null,
    ],
    ['an intended statement', statement({ status: 'intended' }), null],
    [
      'an order stopped with no end but ordered 30 days ago',
      order({ authoredOn: daysAgo(30) }),
      { status: 'stopped', endedOn: null, startedOn: daysAgo(30) },
    ],
    ['an order stopped with no date at all', order({}), null],
    ['an order stopped, ordered 300 days ago, no end', order({ authoredOn: daysAgo(300) }), null],
    [
      'an active order whose course ends next week',
      order({
        status: 'active',
        dosageInstruction: [{ timing: { repeat: { boundsPeriod: { end: daysAgo(-7) } } } }],
      }),
      { status: 'active', daysSinceEnd: null },
    ],
    [
      'an "active" order whose course ended 250 days ago',
      order({
        status: 'active',
        dosageInstruction: [{ timing: { repeat: { boundsPeriod: { end: daysAgo(250) } } } }],
      }),
      null,
    ],
    ['a cancelled order', order({ status: 'cancelled', authoredOn: daysAgo(2) }), null],
  ])('When the record is %s, its exposure is %j', (_title, record, expected) => {
    const exposure = readExposure(record, NOW, window);
    // Compare only the fields the row names; a null row means the record does not count.
    const named = Object.keys((expected ?? {}) as object);
    const shown =
      exposure === null
        ? null
        : Object.fromEntries(named.map((key) => [key, exposure[key as keyof typeof exposure]]));
    expect(shown).toEqual(expected);
  });
});

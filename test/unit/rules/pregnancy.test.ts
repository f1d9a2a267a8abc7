import { loadCardContent } from '../../../src/cards/load-content.js';
import { phaseAt, readPregnancy } from '../../../src/rules/pregnancy.js';
import { ICD10_CM, LOINC, SNOMED_CT } from '../../../src/terminology/systems.js';
import { SCENARIO_NOW, buildCondition } from '../../fixtures/scenarios.js';

const content = loadCardContent();
const rules = content.contextRules.pregnancy;
const DAY_MS = 86_400_000;
const NOW_MS = SCENARIO_NOW.getTime();
const ago = (days: number) => new Date(NOW_MS - days * DAY_MS).toISOString();

function obs(loinc: string, atDaysAgo: number, value: Partial<fhir4.Observation>) {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOINC, code: loinc }] },
    effectiveDateTime: ago(atDaysAgo),
    ...value,
  } as fhir4.Observation;
}

function record(conditions: fhir4.Condition[], observations: fhir4.Observation[]) {
  return readPregnancy({ conditions, observations, now: SCENARIO_NOW }, rules, content.conditions);
}

describe('readPregnancy and phaseAt', () => {
  it.each<[string, fhir4.Condition[], fhir4.Observation[], number, string]>([
    [
      'an ICD-10-CM Z3A.24 recorded 10 days ago dates her: 20 days ago is week 22',
      [{ ...buildCondition('z3a', { system: ICD10_CM, code: 'Z3A.24' }), recordedDate: ago(10) }],
      [],
      20,
      'second-or-third-trimester',
    ],
    [
      'a gestational age of 70 days (49052-4) 30 days ago: 50 days ago is week 2–3',
      [],
      [obs('49052-4', 30, { valueQuantity: { value: 70, unit: 'd', code: 'd' } })],
      50,
      'first-trimester',
    ],
    [
      'a pregnancy status recorded 20 days ago only: its age is unknown',
      [],
      [
        obs('82810-3', 20, {
          valueCodeableConcept: { coding: [{ system: SNOMED_CT, code: '77386006' }] },
        }),
      ],
      1,
      'undetermined',
    ],
    [
      'a delivery date Observation 15 days ago: a result 5 days ago is after delivery',
      [],
      [
        obs('11778-8', 200, { valueDateTime: ago(10).slice(0, 10) }),
        obs('93857-1', 15, { valueDateTime: ago(15) }),
      ],
      5,
      'after-delivery',
    ],
    [
      'an estimated delivery date 100 days ahead: 300 days ago is before conception',
      [],
      [obs('11778-8', 60, { valueDateTime: ago(-100).slice(0, 10) })],
      300,
      'before-conception',
    ],
  ])('When %s', (_title, conditions, observations, atDaysAgo, phase) => {
    const pregnancy = record(conditions, observations);

    expect(pregnancy).not.toBeNull();
    expect(phaseAt(NOW_MS - atDaysAgo * DAY_MS, pregnancy!, rules)).toBe(phase);
  });

  it('When a pregnancy Condition was entered in error, there is no pregnancy', () => {
    const condition = buildCondition(
      'err',
      { system: SNOMED_CT, code: '77386006' },
      { verificationStatus: 'entered-in-error' },
    );

    expect(record([{ ...condition, onsetDateTime: ago(150) }], [])).toBeNull();
  });
});

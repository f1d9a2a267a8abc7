import { assess } from '../../../src/engine/assess.js';
import { computeAgeYears, makeAgeAt } from '../../../src/engine/patient.js';
import { buildLab } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');

function ulnAt(
  analyte: 'ALP' | 'AST' | 'GGT' | 'ALT',
  sex: 'male' | 'female' | 'unknown',
  birthDate: string,
  time: string,
) {
  const { series } = assess({
    observations: [buildLab({ analyte, value: 50, time, id: 'obs-1' })],
    patient: buildPatient({ sex, birthDate }),
    now: NOW,
    lookbackDays: 365,
  });
  return series[analyte].points[0]!;
}

describe('default ULN by age at the result date and sex (reference.md §2b, Mayo [S8])', () => {
  it.each([
    ['ALP', 'male', '2012-01-10', '2026-05-01T08:00:00Z', 468],
    ['ALP', 'female', '2012-01-10', '2026-05-01T08:00:00Z', 254],
    ['ALP', 'unknown', '2012-01-10', '2026-05-01T08:00:00Z', 468],
    ['ALP', 'male', '2025-06-01', '2026-05-01T08:00:00Z', 469],
    ['ALP', 'male', '2008-01-01', '2026-05-01T08:00:00Z', 149],
    ['ALP', 'female', '2008-01-01', '2026-05-01T08:00:00Z', 104],
    ['ALP', 'male', '2006-01-01', '2026-05-01T08:00:00Z', 129],
    // Sixteen at the first result, seventeen at the second: the interval follows the result date.
    ['ALP', 'female', '2009-03-01', '2026-02-01T08:00:00Z', 117],
    ['ALP', 'female', '2009-03-01', '2026-04-01T08:00:00Z', 104],
    ['AST', 'male', '2016-01-01', '2026-05-01T08:00:00Z', 60],
    ['AST', 'female', '2016-01-01', '2026-05-01T08:00:00Z', 50],
    ['AST', 'male', '2011-01-01', '2026-05-01T08:00:00Z', 48],
    ['GGT', 'female', '2021-01-01', '2026-05-01T08:00:00Z', 21],
    ['GGT', 'male', '2011-01-01', '2026-05-01T08:00:00Z', 43],
    ['GGT', 'female', '2011-01-01', '2026-05-01T08:00:00Z', 26],
    ['ALT', 'female', '2011-01-01', '2026-05-01T08:00:00Z', 25],
  ] as const)('%s, %s born %s, result %s → ULN %d', (analyte, sex, birthDate, time, uln) => {
    expect(ulnAt(analyte, sex, birthDate, time).uln).toBe(uln);
  });

  it('When the patient is an adult, no default interval is named; under 18 it is', () => {
    expect(
      ulnAt('ALP', 'male', '1970-01-01', '2026-05-01T08:00:00Z').defaultInterval,
    ).toBeUndefined();
    expect(ulnAt('ALP', 'male', '2012-01-10', '2026-05-01T08:00:00Z').defaultInterval).toBe(
      'ALP ≤468 U/L (male 13–<15 y, [S8] Mayo Clinic Laboratories)',
    );
  });

  it('When the lab sends a reference range, it wins over the children’s default', () => {
    const { series } = assess({
      observations: [
        buildLab({ analyte: 'ALP', value: 300, refHigh: 390, time: '2026-05-01T08:00:00Z' }),
      ],
      patient: buildPatient({ sex: 'male', birthDate: '2012-01-10' }),
      now: NOW,
      lookbackDays: 365,
    });
    expect(series.ALP.points[0]).toMatchObject({ uln: 390, ulnSource: 'reference-range' });
    expect(series.ALP.points[0]!.defaultInterval).toBeUndefined();
  });
});

describe('age at an instant', () => {
  it.each([
    ['2012-01-10', '2026-01-09T23:59:59Z', 13],
    ['2012-01-10', '2026-01-10T00:00:00Z', 14],
    ['2008-02-29', '2026-02-28T12:00:00Z', 17],
    ['2008-02-29', '2026-03-01T00:00:00Z', 18],
    ['2012-05', '2026-04-30T00:00:00Z', 13],
    ['2012', '2026-01-01T00:00:00Z', 14],
    ['2026-07-01', '2026-06-01T00:00:00Z', null],
  ] as const)('born %s, at %s → %s, as computeAgeYears says', (birthDate, at, age) => {
    const ms = Date.parse(at);
    expect(makeAgeAt(birthDate)(ms)).toBe(age);
    expect(computeAgeYears(birthDate, new Date(ms))).toBe(age);
  });
});

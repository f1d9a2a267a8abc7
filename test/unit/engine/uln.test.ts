import { resolveUln } from '../../../src/engine/uln.js';
import { ADMINISTRATIVE_GENDER, UCUM } from '../../../src/terminology/systems.js';
import { buildLab } from '../../fixtures/observation.js';

const sexRange = (code: 'male' | 'female', high: number): fhir4.ObservationReferenceRange => ({
  high: { value: high, unit: 'U/L', system: UCUM, code: 'U/L' },
  appliesTo: [{ coding: [{ system: ADMINISTRATIVE_GENDER, code }] }],
});

describe('upper limit of normal', () => {
  it('When the lab sends one range per sex, the range for the patient’s sex is used', () => {
    const lab = buildLab(
      { analyte: 'ALT', value: 40 },
      { referenceRange: [sexRange('male', 55), sexRange('female', 45)] },
    );
    expect(resolveUln(lab, 'U/L', 'ALT', 'enzyme', 'female', 60)).toEqual({
      uln: 45,
      ulnSource: 'reference-range',
    });
    expect(resolveUln(lab, 'U/L', 'ALT', 'enzyme', 'male', 60).uln).toBe(55);
  });

  it('When the only range is for the other sex, the default for the patient’s sex is used', () => {
    const lab = buildLab({ analyte: 'ALT', value: 40 }, { referenceRange: [sexRange('male', 55)] });
    expect(resolveUln(lab, 'U/L', 'ALT', 'enzyme', 'female', 60)).toEqual({
      uln: 25,
      ulnSource: 'default-sex-specific',
    });
  });

  it('When the range high is in µkat/L, it is converted to U/L like the value', () => {
    const lab = buildLab(
      { analyte: 'ALP', value: 2, unit: 'ukat/L' },
      { referenceRange: [{ high: { value: 2.15, unit: 'µkat/L' } }] },
    );
    expect(resolveUln(lab, 'ukat/L', 'ALP', 'enzyme', 'male', 50).uln).toBeCloseTo(129, 9);
  });

  it('When the range high has no unit, the value’s unit is assumed; an unconvertible unit falls back to the default', () => {
    const noUnit = buildLab(
      { analyte: 'ALP', value: 2 },
      { referenceRange: [{ high: { value: 2 } }] },
    );
    expect(resolveUln(noUnit, 'ukat/L', 'ALP', 'enzyme', 'male', 50).uln).toBeCloseTo(120, 9);
    const badUnit = buildLab(
      { analyte: 'ALP', value: 2 },
      { referenceRange: [{ high: { value: 2, unit: 'mg/dL' } }] },
    );
    expect(resolveUln(badUnit, 'U/L', 'ALP', 'enzyme', 'male', 50)).toEqual({
      uln: 129,
      ulnSource: 'default-sex-specific',
    });
  });

  it('When a range is for another age band, it is skipped', () => {
    const lab = buildLab(
      { analyte: 'ALP', value: 200 },
      {
        referenceRange: [
          { high: { value: 417, unit: 'U/L' }, age: { low: { value: 10 }, high: { value: 13 } } },
          { high: { value: 129, unit: 'U/L' }, age: { low: { value: 19 } } },
        ],
      },
    );
    expect(resolveUln(lab, 'U/L', 'ALP', 'enzyme', 'male', 45).uln).toBe(129);
  });
});

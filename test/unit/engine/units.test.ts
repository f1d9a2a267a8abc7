import { readQuantityUnit, resolveUnit } from '../../../src/engine/units.js';

describe('unit resolution', () => {
  it.each([
    ['U/L', 1],
    ['U/l', 1],
    ['IU/L', 1],
    ['[IU]/L', 1],
    ['units/L', 1],
    ['ukat/L', 60],
    ['µkat/L', 60],
    ['μkat/L', 60],
    ['nkat/L', 0.06],
    ['U/mL', 1000],
  ])('When an enzyme result is in %s, it converts to U/L by a factor of %s', (unit, factor) => {
    const resolution = resolveUnit(unit, 'enzyme');
    expect(resolution.ok).toBe(true);
    expect(resolution.ok && resolution.factor).toBeCloseTo(factor, 10);
  });

  it.each([
    ['umol/L', 1],
    ['µmol/L', 1],
    ['mg/dL', 17.104],
    ['mg/L', 1.7104],
  ])(
    'When a bilirubin result is in %s, it converts to umol/L by a factor of %s',
    (unit, factor) => {
      const resolution = resolveUnit(unit, 'bilirubin');
      expect(resolution.ok && resolution.factor).toBeCloseTo(factor, 3);
    },
  );

  it.each([
    ['u/L', 'enzyme', 'atomic mass'],
    ['mmol/L', 'enzyme', 'cannot be converted to U/L'],
    ['%', 'enzyme', 'cannot be converted to U/L'],
    ['IU/L', 'bilirubin', 'not a recognised UCUM unit'],
    ['U/L', 'bilirubin', 'cannot be converted to umol/L'],
    ['xyz', 'enzyme', 'not a recognised UCUM unit'],
  ] as const)('When %s is given for an %s, it is refused: %s', (unit, kind, reason) => {
    const resolution = resolveUnit(unit, kind);
    expect(resolution.ok).toBe(false);
    expect(!resolution.ok && resolution.reason).toContain(reason);
  });

  it('When a Quantity is UCUM-coded, its code is read; otherwise its unit text', () => {
    expect(
      readQuantityUnit({ unit: 'IU/L', system: 'http://unitsofmeasure.org', code: '[IU]/L' }),
    ).toBe('[IU]/L');
    expect(readQuantityUnit({ unit: 'IU/L', system: 'http://example.org/units', code: 'X1' })).toBe(
      'IU/L',
    );
    expect(readQuantityUnit({})).toBeNull();
  });
});

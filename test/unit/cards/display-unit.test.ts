import { displayUnit } from '../../../src/cards/detail-blocks.js';

describe('displayUnit', () => {
  it.each([
    ['umol/L', 'µmol/L'],
    ['ukat/L', 'µkat/L'],
    ['mumol/L', 'µmol/L'],
    ['mcg/L', 'µg/L'],
    ['ug/dL', 'µg/dL'],
    ['10*3/uL', '10*3/µL'],
    ['uU/mL', 'µU/mL'],
    ['U/L', 'U/L'],
    ['IU/L', 'IU/L'],
    ['mU/L', 'mU/L'],
    ['mg/dL', 'mg/dL'],
    ['mmol/L', 'mmol/L'],
    ['u/L', 'u/L'],
  ])('When a lab sends %s, the card shows %s', (unit, shown) => {
    expect(displayUnit(unit)).toBe(shown);
  });
});

import {
  ANALYTES,
  ANALYTE_CODES,
  ANALYTE_LIST,
  ANALYTE_LOINC_CODES,
  findAnalyteCode,
  listAnalyteLoincCodes,
  selectDefaultUln,
} from '../../../src/terminology/analytes.js';

describe('the analyte table', () => {
  it('When the table is read, every LOINC code appears once and every analyte has at least one code', () => {
    const codes = ANALYTE_CODES.map((c) => c.loinc);
    expect(new Set(codes).size).toBe(codes.length);
    for (const analyte of ANALYTE_LIST) {
      expect(ANALYTE_LOINC_CODES[analyte].length).toBeGreaterThan(0);
    }
    expect([...listAnalyteLoincCodes()].sort()).toEqual([...codes].sort());
  });

  it('When a code is contradicted or unconfirmed in the clinical reference, it is not mapped', () => {
    for (const code of ['14409-7', '59789-8', '48134-1', '48136-6', '1777-2']) {
      expect(findAnalyteCode(code)).toBeUndefined();
    }
  });

  it('When enzyme codes are listed, they are catalytic; bilirubin codes are mass or molar', () => {
    for (const row of ANALYTE_CODES) {
      const expected = ANALYTES[row.analyte].kind === 'enzyme' ? ['CCnc'] : ['MCnc', 'SCnc'];
      expect(expected).toContain(row.property);
    }
  });

  it('When defaults are selected, women get the lower enzyme limits and unknown sex the higher one', () => {
    expect(selectDefaultUln('ALT', 'female')).toEqual({ uln: 25, sexSpecific: true });
    expect(selectDefaultUln('ALT', 'male')).toEqual({ uln: 33, sexSpecific: true });
    expect(selectDefaultUln('ALT', 'unknown')).toEqual({ uln: 33, sexSpecific: false });
    expect(selectDefaultUln('TBIL', 'female')).toEqual({ uln: 20.5, sexSpecific: false });
  });

  it('When a default or biological variation is not verified, the table says so', () => {
    expect(ANALYTES.TBIL.defaultUln.status).toBe('U');
    expect(ANALYTES.TBIL.biologicalVariation.cviStatus).toBe('U');
    expect(ANALYTES.ALP.defaultUln.source).toContain('[S8]');
    expect(ANALYTES.ALT.defaultUln.source).toContain('[S1]');
  });
});

import { assess } from '../../../src/engine/assess.js';
import type { Assessment } from '../../../src/engine/types.js';
import { FIXED_NOW, buildLab, buildLabSeries } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

function run(
  observations: fhir4.Observation[],
  patient: fhir4.Patient | null = buildPatient(),
): Assessment {
  return assess({ observations, patient, now: FIXED_NOW, lookbackDays: 180 });
}

describe('assess: edge cases', () => {
  it('When there are no Observations, every series is empty and the data-quality notes say no data', () => {
    const result = run([]);
    expect(result.series.ALP.points).toEqual([]);
    expect(result.series.ALP.trend.direction).toBe('insufficient');
    expect(result.findings.severity).toBeNull();
    expect(result.findings.rRatio).toEqual({ first: null, last: null, fall: null });
    expect(result.dataQuality.map((n) => n.code)).toEqual(['no-data']);
  });

  it('When only unrelated Observations are present, they are ignored rather than excluded', () => {
    const sodium = buildLab(
      { value: 140, unit: 'mmol/L' },
      { code: { coding: [{ system: 'http://loinc.org', code: '2951-2' }] } },
    );
    const result = run([sodium]);
    expect(result.excluded).toEqual([]);
    expect(result.dataQuality.map((n) => n.code)).toEqual(['no-data']);
  });

  it('When ALP has one result, the trend is insufficient but the latest value and severity are given', () => {
    const result = run([buildLab({ analyte: 'ALP', value: 312, daysAgo: 3, id: 'alp-1' })]);
    expect(result.series.ALP.latest?.observationId).toBe('alp-1');
    expect(result.series.ALP.trend).toMatchObject({
      direction: 'insufficient',
      method: 'none',
      pointCount: 1,
    });
    expect(result.findings.severity?.tier).toBe('below-5x');
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({ code: 'too-few-points', analyte: 'ALP' }),
    );
  });

  it('When ALP has two results, the change is reported against the RCV but no direction is claimed', () => {
    const result = run(buildLabSeries({ analyte: 'ALP', values: [150, 300] }));
    const { trend } = result.series.ALP;
    expect(trend.method).toBe('two-point');
    expect(trend.changePct).toBeCloseTo(100, 10);
    expect(trend.changeExceedsRcv).toBe(true);
    expect(trend.slopePctPer30d).toBeNull();
    expect(trend.direction).toBe('insufficient');
  });

  it('When two ALT results share one instant, one is kept (the corrected one) and the other is excluded as a duplicate', () => {
    const time = '2026-05-20T08:00:00Z';
    const result = run([
      buildLab({ analyte: 'ALT', value: 90, time, id: 'alt-final' }),
      buildLab({ analyte: 'ALT', value: 95, time, id: 'alt-corrected', status: 'corrected' }),
    ]);
    expect(result.series.ALT.points.map((p) => p.observationId)).toEqual(['alt-corrected']);
    expect(result.excluded).toEqual([
      expect.objectContaining({
        observationId: 'alt-final',
        reason: expect.stringContaining('duplicate'),
      }),
    ]);
  });

  it('When ALP arrives in U/L, IU/L and µkat/L, all points are in U/L with the same values', () => {
    const result = run([
      buildLab({ analyte: 'ALP', value: 120, unit: 'U/L', daysAgo: 60 }),
      buildLab({ analyte: 'ALP', value: 180, unit: 'IU/L', daysAgo: 30 }),
      buildLab({ analyte: 'ALP', value: 4, unit: 'µkat/L', daysAgo: 1 }),
    ]);
    const { points } = result.series.ALP;
    expect(points.map((p) => p.unit)).toEqual(['U/L', 'U/L', 'U/L']);
    expect(points.map((p) => p.value)).toEqual([120, 180, expect.closeTo(240, 9)]);
    expect(points[2]?.reported).toEqual({ value: 4, unit: 'µkat/L' });
    expect(result.series.ALP.trend.direction).toBe('rising');
  });

  it('When an enzyme result comes in a unit that cannot be enzyme activity, it is excluded with the reason', () => {
    const result = run([
      buildLab({ analyte: 'ALT', value: 40, unit: 'u/L', id: 'amu' }),
      buildLab({ analyte: 'ALT', value: 40, unit: 'mmol/L', id: 'molar' }),
      buildLab({ analyte: 'ALT', value: 40, unit: 'furlongs', id: 'nonsense' }),
    ]);
    expect(result.series.ALT.points).toEqual([]);
    expect(result.excluded.map((e) => e.observationId)).toEqual(['amu', 'molar', 'nonsense']);
    expect(result.excluded[0]?.reason).toContain('atomic mass');
    expect(result.excluded[1]?.reason).toContain('cannot be converted to U/L');
  });

  it('When results carry comparators, they stay in the series as censored and are left out of the fit', () => {
    const result = run([
      buildLab({ analyte: 'ALT', value: 300, daysAgo: 60 }),
      buildLab({ analyte: 'ALT', value: 150, daysAgo: 40 }),
      buildLab({ analyte: 'ALT', value: 5, comparator: '<', daysAgo: 20, id: 'below' }),
      buildLab({ analyte: 'ALT', value: 60, daysAgo: 1 }),
    ]);
    const { points, trend } = result.series.ALT;
    expect(points).toHaveLength(4);
    expect(points.find((p) => p.observationId === 'below')?.censored).toBe('<');
    expect(trend.pointCount).toBe(3);
    expect(trend.direction).toBe('falling');
  });

  it('When a result was entered in error or cancelled, it is excluded and says so', () => {
    const result = run([
      ...buildLabSeries({ analyte: 'ALP', values: [150, 200, 260] }),
      buildLab({ analyte: 'ALP', value: 2000, daysAgo: 0, status: 'entered-in-error', id: 'eie' }),
      buildLab({ analyte: 'ALP', value: 2000, daysAgo: 0, status: 'cancelled', id: 'cx' }),
    ]);
    expect(result.series.ALP.latest?.value).toBe(260);
    expect(result.excluded.map((e) => [e.observationId, e.reason])).toEqual([
      ['cx', "status 'cancelled' is not a released result"],
      ['eie', "status 'entered-in-error' is not a released result"],
    ]);
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({ code: 'excluded-results', analyte: 'ALP' }),
    );
  });

  it('When a preliminary result is present, it is excluded until the lab releases it', () => {
    const result = run([
      buildLab({ analyte: 'ALP', value: 500, status: 'preliminary', id: 'prelim' }),
    ]);
    expect(result.series.ALP.points).toEqual([]);
    expect(result.excluded).toEqual([expect.objectContaining({ observationId: 'prelim' })]);
  });

  it('When a woman has no reference range on her results, the female defaults are used and named', () => {
    const result = run(
      [buildLab({ analyte: 'ALP', value: 208 }), buildLab({ analyte: 'ALT', value: 50 })],
      buildPatient({ sex: 'female' }),
    );
    expect(result.series.ALP.latest).toMatchObject({
      uln: 104,
      ulnSource: 'default-sex-specific',
      xUln: 2,
    });
    expect(result.series.ALT.latest).toMatchObject({
      uln: 25,
      ulnSource: 'default-sex-specific',
      xUln: 2,
    });
  });

  it('When sex is unknown and no range is given, the higher default applies as a unisex limit', () => {
    const result = run([buildLab({ analyte: 'ALT', value: 66 })], null);
    expect(result.patient).toEqual({ id: null, sex: 'unknown', ageYears: null });
    expect(result.series.ALT.latest).toMatchObject({
      uln: 33,
      ulnSource: 'default-unisex',
      xUln: 2,
    });
  });

  it('When the lab sends its own range, its high limit wins over the default', () => {
    const result = run([buildLab({ analyte: 'ALP', value: 240, refHigh: 120 })]);
    expect(result.series.ALP.latest).toMatchObject({
      uln: 120,
      ulnSource: 'reference-range',
      xUln: 2,
    });
  });

  it.each([
    ["AST with P-5'-P", 'AST', '30239-8'],
    ["AST without P-5'-P", 'AST', '88112-8'],
    ["ALT with P-5'-P", 'ALT', '1743-4'],
    ["ALT without P-5'-P", 'ALT', '1744-2'],
    ['ALT in blood', 'ALT', '76625-3'],
    ['ALT in serum, plasma or blood', 'ALT', '77144-4'],
    ['ALP in blood', 'ALP', '1783-0'],
    ['ALP in serum, plasma or blood', 'ALP', '77141-0'],
    ['total bilirubin, molar', 'TBIL', '14631-6'],
    ['total bilirubin in blood', 'TBIL', '42719-5'],
    ['direct bilirubin, molar', 'DBIL', '14629-0'],
  ] as const)(
    'When a result is coded as %s (%s, LOINC %s), it joins that series',
    (_t, analyte, loinc) => {
      const unit = analyte === 'TBIL' || analyte === 'DBIL' ? 'umol/L' : 'U/L';
      const result = run([buildLab({ analyte, loinc, value: 30, unit })]);
      expect(result.series[analyte].points).toEqual([
        expect.objectContaining({ loinc, value: 30 }),
      ]);
    },
  );

  it('When a result carries the ambiguous code 14409-7, it is not read as AST', () => {
    const result = run([buildLab({ analyte: 'AST', loinc: '14409-7', value: 30 })]);
    expect(result.series.AST.points).toEqual([]);
  });

  it("When AST results mix the P-5'-P and plain codes, the series flags mixed methods", () => {
    const result = run([
      buildLab({ analyte: 'AST', loinc: '1920-8', value: 40, daysAgo: 20 }),
      buildLab({ analyte: 'AST', loinc: '30239-8', value: 44, daysAgo: 2 }),
    ]);
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({ code: 'mixed-methods', analyte: 'AST' }),
    );
  });

  it('When the latest ALP is older than 30 days, the data-quality notes call it stale', () => {
    const result = run([buildLab({ analyte: 'ALP', value: 150, daysAgo: 45 })]);
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({ code: 'stale-latest', analyte: 'ALP' }),
    );
  });

  it('When results fall outside the look-back window or after now, they are not in the series', () => {
    const result = run([
      buildLab({ analyte: 'ALP', value: 150, daysAgo: 181 }),
      buildLab({ analyte: 'ALP', value: 160, daysAgo: 10 }),
      buildLab({ analyte: 'ALP', value: 170, daysAgo: -2, id: 'future' }),
    ]);
    expect(result.series.ALP.points.map((p) => p.value)).toEqual([160]);
    expect(result.excluded).toEqual([expect.objectContaining({ observationId: 'future' })]);
  });

  it('When a result has no time, no value or a data-absent reason, it is excluded with that reason', () => {
    const noTime = buildLab(
      { analyte: 'ALP', value: 150, id: 'no-time' },
      { effectiveDateTime: '2026-05' },
    );
    const noValue = buildLab(
      { analyte: 'ALP', value: 150, id: 'no-value' },
      { valueQuantity: { unit: 'U/L' } },
    );
    const absent = buildLab(
      { analyte: 'ALP', value: 150, id: 'absent' },
      { valueQuantity: undefined, dataAbsentReason: { coding: [{ code: 'error' }] } },
    );
    const text = buildLab(
      { analyte: 'ALP', value: 150, id: 'text' },
      { valueQuantity: undefined, valueString: 'see note' },
    );
    const result = run([noTime, noValue, absent, text]);
    expect(Object.fromEntries(result.excluded.map((e) => [e.observationId, e.reason]))).toEqual({
      'no-time': expect.stringContaining('no usable time'),
      'no-value': expect.stringContaining('no numeric value'),
      absent: expect.stringContaining('data absent (error)'),
      text: expect.stringContaining('no numeric value'),
    });
  });

  it('When effectiveDateTime is missing, effectivePeriod.start and then issued give the time', () => {
    const period = buildLab(
      { analyte: 'ALP', value: 150, id: 'period' },
      { effectiveDateTime: undefined, effectivePeriod: { start: '2026-05-01T10:00:00Z' } },
    );
    const issued = buildLab(
      { analyte: 'ALP', value: 160, id: 'issued' },
      { effectiveDateTime: undefined, issued: '2026-05-10T10:00:00Z' },
    );
    const result = run([period, issued]);
    expect(result.series.ALP.points.map((p) => [p.observationId, p.time])).toEqual([
      ['period', '2026-05-01T10:00:00.000Z'],
      ['issued', '2026-05-10T10:00:00.000Z'],
    ]);
  });

  it('When the patient has a birth date, age is counted in completed years at the evaluation time', () => {
    const result = run([], buildPatient({ birthDate: '1960-06-02', sex: 'male' }));
    expect(result.patient).toEqual({ id: 'pat-1', sex: 'male', ageYears: 65 });
  });
});

describe('assess: malformed input', () => {
  it('When resources are loosely shaped (odd status, missing code, string values), nothing throws and bad results are excluded', () => {
    const loose: unknown[] = [
      { resourceType: 'Observation', id: 'no-code', status: 'final' },
      { ...buildLab({ analyte: 'ALP', value: 100, id: 'odd-status' }), status: 'constructor' },
      {
        ...buildLab({ analyte: 'ALP', value: 100, id: 'string-value' }),
        valueQuantity: { value: '100', unit: 'U/L' },
      },
      { ...buildLab({ analyte: 'ALP', value: 100, id: 'null-coding' }), code: { coding: [null] } },
    ];
    const observations = loose.filter(
      (o): o is fhir4.Observation => typeof o === 'object' && o !== null,
    );
    const result = run(observations);
    expect(result.series.ALP.points).toEqual([]);
    expect(result.excluded.map((e) => e.observationId)).toEqual(['odd-status', 'string-value']);
  });
});

describe('lab builder', () => {
  it('When only a molar bilirubin LOINC code is given, the built result joins the total bilirubin series in umol/L', () => {
    const result = run([buildLab({ loinc: '14631-6', value: 30, unit: 'umol/L' })]);
    expect(result.series.TBIL.latest).toMatchObject({
      loinc: '14631-6',
      value: 30,
      unit: 'umol/L',
    });
  });
});

import { assess } from '../../../src/engine/assess.js';
import type { Assessment } from '../../../src/engine/types.js';
import {
  ANALYTES,
  ANALYTE_LIST,
  PEDIATRIC_DEFAULT_ULNS,
} from '../../../src/terminology/analytes.js';
import { FIXED_NOW, buildLab, buildLabSeries } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

function run(observations: fhir4.Observation[]): Assessment {
  return assess({ observations, patient: buildPatient(), now: FIXED_NOW, lookbackDays: 180 });
}

describe('Plausibility limits of the analyte table', () => {
  it('Every analyte has a ULN band around its default ULN and a maximum far above that band', () => {
    for (const analyte of ANALYTE_LIST) {
      const { plausibility, defaultUln } = ANALYTES[analyte];
      expect(plausibility.uln.low).toBeGreaterThan(0);
      expect(plausibility.uln.low).toBeLessThan(Math.min(defaultUln.male, defaultUln.female));
      expect(plausibility.uln.high).toBeGreaterThan(Math.max(defaultUln.male, defaultUln.female));
      expect(plausibility.maxValue).toBeGreaterThan(10 * plausibility.uln.high);
    }
  });

  it('Every default ULN, children’s included, lies inside its analyte’s band', () => {
    for (const [analyte, bands] of Object.entries(PEDIATRIC_DEFAULT_ULNS)) {
      const { low, high } = ANALYTES[analyte as keyof typeof ANALYTES].plausibility.uln;
      for (const band of bands ?? []) {
        for (const uln of [band.male, band.female]) {
          expect(uln).toBeGreaterThanOrEqual(low);
          expect(uln).toBeLessThanOrEqual(high);
        }
      }
    }
  });

  it.each([
    ['ALP above 20 000 U/L', buildLab({ analyte: 'ALP', value: 25_000, id: 'x', daysAgo: 1 })],
    [
      'ALP above 20 000 U/L reported in µkat/L',
      buildLab({ analyte: 'ALP', value: 400, unit: 'ukat/L', id: 'x', daysAgo: 1 }),
    ],
    ['ALT above 50 000 U/L', buildLab({ analyte: 'ALT', value: 60_000, id: 'x', daysAgo: 1 })],
    [
      'total bilirubin above 1 500 µmol/L',
      buildLab({ analyte: 'TBIL', value: 120, unit: 'mg/dL', id: 'x', daysAgo: 1 }),
    ],
    ['a negative ALP', buildLab({ analyte: 'ALP', value: -150, id: 'x', daysAgo: 1 })],
  ])('Excludes %s with a reason', (_name, observation) => {
    const result = run([observation]);

    expect(result.excluded).toEqual([
      expect.objectContaining({ observationId: 'x', reason: expect.any(String) }),
    ]);
    expect(result.findings.severity).toBeNull();
  });

  it('Keeps the highest plausible ALP', () => {
    const result = run([buildLab({ analyte: 'ALP', value: 20_000, id: 'x', daysAgo: 1 })]);

    expect(result.excluded).toEqual([]);
    expect(result.series.ALP.latest?.value).toBe(20_000);
  });

  it('One implausible ALP at the end of a series does not set the severity tier', () => {
    const series = buildLabSeries({ analyte: 'ALP', values: [150, 190, 240], refHigh: 120 });
    const outlier = buildLab({ analyte: 'ALP', value: 380_000, refHigh: 120, id: 'x' });

    const result = run([...series, outlier]);

    expect(result.findings.severity).toMatchObject({ tier: 'below-5x' });
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({
        code: 'excluded-results',
        analyte: 'ALP',
        message: expect.stringContaining('above the plausible maximum (20000 U/L)'),
      }),
    );
  });

  it.each([
    ['0.001 U/L', 0.001],
    ['51 U/L', 51],
    ['939 U/L', 939],
  ])('An ALP range whose ULN is %s is replaced by the default ULN with a note', (_name, high) => {
    const result = run([buildLab({ analyte: 'ALP', value: 350, refHigh: high, daysAgo: 1 })]);

    const point = result.series.ALP.latest;
    expect(point).toMatchObject({ uln: 104, ulnSource: 'default-sex-specific', rejectedUln: high });
    expect(point?.xUln).toBeCloseTo(350 / 104);
    expect(result.dataQuality).toContainEqual(
      expect.objectContaining({
        code: 'implausible-reference-range',
        analyte: 'ALP',
        message: expect.stringContaining(`implausible upper limit of normal (${high} U/L)`),
      }),
    );
  });

  it.each([52, 469, 938])('Believes an ALP ULN of %s U/L (inside the band)', (high) => {
    const result = run([buildLab({ analyte: 'ALP', value: 350, refHigh: high, daysAgo: 1 })]);

    expect(result.series.ALP.latest).toMatchObject({ uln: high, ulnSource: 'reference-range' });
    expect(result.series.ALP.latest?.rejectedUln).toBeUndefined();
  });
});

import { assess } from '../../../src/engine/assess.js';
import type { Assessment, Direction } from '../../../src/engine/types.js';
import { FIXED_NOW, buildLab, buildLabSeries } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

function run(observations: fhir4.Observation[], patient = buildPatient()): Assessment {
  return assess({ observations, patient, now: FIXED_NOW, lookbackDays: 180 });
}

// Default ULNs for a woman: ALP 104, AST 43, ALT 25, GGT 36 U/L.
const alpRising = () => buildLabSeries({ analyte: 'ALP', values: [140, 190, 260, 350] });
const alpStable = () => buildLabSeries({ analyte: 'ALP', values: [150, 155, 148, 152] });
const altFalling = () => buildLabSeries({ analyte: 'ALT', values: [420, 260, 140, 70] });
const altStable = () => buildLabSeries({ analyte: 'ALT', values: [60, 62, 58, 61] });
const astFalling = () => buildLabSeries({ analyte: 'AST', values: [380, 200, 110, 60] });
const astStable = () => buildLabSeries({ analyte: 'AST', values: [50, 52, 49, 51] });

describe('assess: the patterns of the source document', () => {
  it.each<[string, () => fhir4.Observation[], Direction, Direction, Direction, boolean]>([
    [
      'ALP rising while ALT and AST fall (P2+P3, the cholestatic shift)',
      () => [...alpRising(), ...altFalling(), ...astFalling()],
      'rising',
      'falling',
      'falling',
      true,
    ],
    [
      'ALP rising while only ALT falls (AST flat)',
      () => [...alpRising(), ...altFalling(), ...astStable()],
      'rising',
      'falling',
      'stable',
      true,
    ],
    [
      'ALP rising on its own (P1: separate processes)',
      () => [...alpRising(), ...altStable(), ...astStable()],
      'rising',
      'stable',
      'stable',
      false,
    ],
    [
      'aminotransferases settling with ALP flat (resolving hepatitis, P2 only)',
      () => [...alpStable(), ...altFalling(), ...astFalling()],
      'stable',
      'falling',
      'falling',
      false,
    ],
  ])('When %s, directions and divergence follow', (_title, build, alp, alt, ast, present) => {
    const { findings } = run(build());
    expect(findings.divergence).toMatchObject({ alp, alt, ast, present });
  });

  it('When ALT first exceeds ALP and then the pattern flips (X2), R falls from hepatocellular to cholestatic', () => {
    const { findings } = run([...alpRising(), ...altFalling(), ...astFalling()]);
    // First pair: (420/25)/(140/104) = 12.5; last: (70/25)/(350/104) = 0.83.
    expect(findings.rRatio.first?.patternClass).toBe('hepatocellular');
    expect(findings.rRatio.first?.value).toBeCloseTo(12.48, 2);
    expect(findings.rRatio.last?.patternClass).toBe('cholestatic');
    expect(findings.rRatio.last?.value).toBeCloseTo(0.832, 3);
    expect(findings.rRatio.fall).toBeCloseTo(12.48 - 0.832, 2);
  });

  it('When the divergence is present, its evidence lists the ALP, AST and ALT observations used', () => {
    const observations = [...alpRising(), ...altFalling(), ...astFalling()];
    const { findings } = run(observations);
    expect([...findings.divergence.observationIds].sort()).toEqual(
      observations.map((o) => o.id).sort(),
    );
  });

  it('When AST overtakes ALT at the latest paired date (C2), the De Ritis ratio is at least 1', () => {
    const { findings } = run([
      ...buildLabSeries({ analyte: 'AST', values: [80, 70, 66] }),
      ...buildLabSeries({ analyte: 'ALT', values: [120, 70, 44] }),
    ]);
    expect(findings.deRitis?.value).toBeCloseTo(1.5, 5);
    expect(findings.deRitis?.atLeastOne).toBe(true);
  });

  it.each([
    ['raised GGT confirms a hepatobiliary source (W1)', 180, 'raised'],
    ['normal GGT points away from the liver (W1)', 30, 'normal'],
  ] as const)('When %s (GGT %d U/L), GGT status is %s', (_title, ggt, status) => {
    const { findings } = run([
      ...alpRising(),
      buildLab({ analyte: 'GGT', value: ggt, daysAgo: 2 }),
    ]);
    expect(findings.ggt.status).toBe(status);
    expect(findings.ggt.latest?.value).toBe(ggt);
  });

  it('When no GGT was measured in the window, GGT status is none-in-window', () => {
    const { findings } = run([
      ...alpRising(),
      buildLab({ analyte: 'GGT', value: 200, daysAgo: 400 }),
    ]);
    expect(findings.ggt).toEqual({ status: 'none-in-window', latest: null });
  });

  it('When total and direct bilirubin are raised (W2), the direct fraction is reported', () => {
    const { findings } = run([
      buildLab({ analyte: 'TBIL', value: 3.0, daysAgo: 1 }),
      buildLab({ analyte: 'DBIL', value: 1.8, daysAgo: 1 }),
    ]);
    expect(findings.bilirubin.status).toBe('raised');
    expect(findings.bilirubin.hasDirect).toBe(true);
    expect(findings.bilirubin.directFraction).toBeCloseTo(0.6, 10);
    expect(findings.bilirubin.latestTotal?.value).toBeCloseTo(3.0 * 17.104, 2);
  });

  it.each([
    ['S1: below 5×ULN', 400, 'below-5x', true],
    ['S2: 5–10×ULN', 700, '5-10x', true],
    ['S3: above 10×ULN', 1200, 'above-10x', true],
    ['below 2×ULN', 150, 'below-5x', false],
  ] as const)(
    'When the latest ALP is %s, the severity tier says so',
    (_t, alp, tier, atLeast2x) => {
      const { findings } = run([
        buildLab({ analyte: 'ALP', value: 120, daysAgo: 30 }),
        buildLab({ analyte: 'ALP', value: alp, daysAgo: 1, refHigh: 100 }),
      ]);
      expect(findings.severity).toMatchObject({ tier, atLeast2xUln: atLeast2x });
      expect(findings.severity?.alpXUln).toBeCloseTo(alp / 100, 10);
    },
  );
});

import fc from 'fast-check';
import { assess } from '../../../src/engine/assess.js';
import { computeRcv } from '../../../src/engine/trend.js';
import type { Analyte, Assessment } from '../../../src/engine/types.js';
import { ANALYTES } from '../../../src/terminology/analytes.js';
import { FIXED_NOW, buildLab } from '../../fixtures/observation.js';
import type { LabSpec } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

function run(observations: readonly fhir4.Observation[]): Assessment {
  return assess({ observations, patient: buildPatient(), now: FIXED_NOW, lookbackDays: 180 });
}

const analyteArb = fc.constantFrom<Analyte>('ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL');

const labArb: fc.Arbitrary<LabSpec> = fc.record({
  analyte: analyteArb,
  value: fc.integer({ min: 1, max: 3000 }),
  // Few distinct days so that same-instant duplicates happen often.
  daysAgo: fc.integer({ min: -2, max: 200 }).map((d) => Math.floor(d / 5) * 5),
  status: fc.constantFrom<fhir4.Observation['status']>(
    'final',
    'final',
    'amended',
    'corrected',
    'preliminary',
    'entered-in-error',
  ),
  comparator: fc.option(fc.constantFrom<'<' | '>'>('<', '>'), { nil: undefined, freq: 5 }),
  refHigh: fc.option(fc.integer({ min: 10, max: 200 }), { nil: undefined }),
});

function buildAll(specs: readonly LabSpec[]): fhir4.Observation[] {
  return specs.map((spec, i) => {
    const enzyme = spec.analyte !== 'TBIL' && spec.analyte !== 'DBIL';
    const unit = enzyme ? (i % 3 === 0 ? 'IU/L' : 'U/L') : 'umol/L';
    return buildLab({ ...spec, unit, id: `obs-${i}` });
  });
}

/** Drops the as-reported value and unit, which legitimately differ between equivalent inputs. */
function withoutReported(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (key === 'reported' ? undefined : v)),
  );
}

/** Values rising or falling by the given per-step log changes, one result per interval. */
function buildMonotone(
  analyte: Analyte,
  start: number,
  logSteps: readonly number[],
  gaps: readonly number[],
): fhir4.Observation[] {
  let day = 170;
  let value = start;
  const out = [buildLab({ analyte, value, daysAgo: day })];
  logSteps.forEach((step, i) => {
    day -= gaps[i] ?? 1;
    value *= Math.exp(step);
    out.push(buildLab({ analyte, value, daysAgo: day }));
  });
  return out;
}

describe('assess: properties', () => {
  it('When the same Observations arrive in any order, the Assessment is identical', () => {
    fc.assert(
      fc.property(
        fc.array(labArb, { minLength: 0, maxLength: 40 }).chain((specs) =>
          fc.tuple(
            fc.constant(specs),
            fc.shuffledSubarray(
              specs.map((_, i) => i),
              {
                minLength: specs.length,
                maxLength: specs.length,
              },
            ),
          ),
        ),
        ([specs, order]) => {
          const observations = buildAll(specs);
          const shuffled = order.map((i) => observations[i]!);
          expect(run(shuffled)).toEqual(run(observations));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('When the same series is reported in µkat/L instead of U/L, the findings are the same', () => {
    const enzymeArb = fc.constantFrom<Analyte>('ALP', 'AST', 'ALT', 'GGT');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            analyte: enzymeArb,
            value: fc.integer({ min: 5, max: 2500 }),
            daysAgo: fc.integer({ min: 0, max: 179 }),
            refHigh: fc.option(fc.integer({ min: 20, max: 150 }), { nil: undefined }),
          }),
          { maxLength: 30 },
        ),
        (specs) => {
          const inUnits = specs.map((s, i) => buildLab({ ...s, unit: 'U/L', id: `o${i}` }));
          const inKatal = specs.map((s, i) =>
            buildLab({
              ...s,
              value: s.value / 60,
              ...(s.refHigh === undefined ? {} : { refHigh: s.refHigh / 60 }),
              unit: 'µkat/L',
              id: `o${i}`,
            }),
          );
          const a = run(inUnits);
          const b = run(inKatal);
          expect(withoutReported(b.findings)).toEqual(withoutReported(a.findings));
          expect(withoutReported(b.series)).toEqual(withoutReported(a.series));
        },
      ),
      { numRuns: 150 },
    );
  });

  it.each(['ALP', 'AST', 'ALT', 'GGT'] as const)(
    'When a %s series moves strictly one way by more than the RCV, the direction matches',
    (analyte) => {
      const rcv = computeRcv(ANALYTES[analyte].biologicalVariation);
      const needed = Math.log(1 + rcv.upPct / 100);
      fc.assert(
        fc.property(
          fc.integer({ min: 2, max: 12 }).chain((steps) =>
            fc.tuple(
              fc.array(fc.double({ min: 0.005, max: 0.6, noNaN: true }), {
                minLength: steps,
                maxLength: steps,
              }),
              fc.array(fc.integer({ min: 1, max: 14 }), { minLength: steps, maxLength: steps }),
              fc.integer({ min: 20, max: 800 }),
              fc.boolean(),
            ),
          ),
          ([logSteps, gaps, start, up]) => {
            fc.pre(logSteps.reduce((a, b) => a + b, 0) > needed * 1.001);
            const signed = logSteps.map((s) => (up ? s : -s));
            const result = run(buildMonotone(analyte, start, signed, gaps));
            expect(result.series[analyte].trend.direction).toBe(up ? 'rising' : 'falling');
          },
        ),
        { numRuns: 100 },
      );
    },
  );

  it('When ALP, AST and ALT only wobble inside their RCVs, no trend and no divergence is reported', () => {
    const wobble = (analyte: Analyte) => {
      const limit = Math.log(1 + computeRcv(ANALYTES[analyte].biologicalVariation).upPct / 100);
      return fc.array(fc.double({ min: 0, max: limit * 0.999, noNaN: true }), {
        minLength: 0,
        maxLength: 10,
      });
    };
    fc.assert(
      fc.property(
        wobble('ALP'),
        wobble('AST'),
        wobble('ALT'),
        fc.integer({ min: 30, max: 900 }),
        (alp, ast, alt, base) => {
          const build = (analyte: Analyte, logs: readonly number[]) =>
            logs.map((l, i) =>
              buildLab({ analyte, value: base * Math.exp(l), daysAgo: 170 - i * 15 }),
            );
          const result = run([...build('ALP', alp), ...build('AST', ast), ...build('ALT', alt)]);
          for (const analyte of ['ALP', 'AST', 'ALT'] as const) {
            expect(['stable', 'insufficient']).toContain(result.series[analyte].trend.direction);
          }
          expect(result.findings.divergence.present).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

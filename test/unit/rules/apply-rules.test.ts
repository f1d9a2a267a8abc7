import { loadCardContent } from '../../../src/cards/load-content.js';
import type {
  Analyte,
  AnalyteSeries,
  Assessment,
  Direction,
  Findings,
} from '../../../src/engine/types.js';
import {
  applyRules,
  type CholestaticShiftRecommendation,
  type Recommendation,
} from '../../../src/rules/apply-rules.js';
import type { PatientContext } from '../../../src/rules/patient-context.js';
import { SCENARIOS, assessScenario, type Scenario } from '../../fixtures/scenarios.js';

const content = loadCardContent();

function emptySeries(analyte: Analyte): AnalyteSeries {
  return {
    analyte,
    unit: 'U/L',
    points: [],
    latest: null,
    trend: {
      direction: 'insufficient',
      method: 'none',
      pointCount: 0,
      spanDays: 0,
      slopePctPer30d: null,
      changePct: null,
      rcvUpPct: 0,
      rcvDownPct: 0,
    },
  };
}

interface AssessmentSpec {
  alp?: Direction;
  ast?: Direction;
  alt?: Direction;
  alpXUln?: number | null;
  ggt?: Findings['ggt']['status'];
  hasDirect?: boolean;
  ageYears?: number | null;
  deRitis?: number;
}

/** An Assessment as the engine would return it, reduced to the findings the rules read. */
function buildAssessment(spec: AssessmentSpec = {}): Assessment {
  const alpXUln = spec.alpXUln === undefined ? 3 : spec.alpXUln;
  const alp = spec.alp ?? 'rising';
  const ast = spec.ast ?? 'falling';
  const alt = spec.alt ?? 'falling';
  const tier =
    alpXUln === null ? null : alpXUln > 10 ? 'above-10x' : alpXUln >= 5 ? '5-10x' : 'below-5x';
  return {
    evaluatedAt: '2026-06-01T12:00:00.000Z',
    lookbackDays: 180,
    patient: {
      id: 'pat-1',
      sex: 'female',
      ageYears: spec.ageYears === undefined ? 50 : spec.ageYears,
    },
    series: {
      ALP: emptySeries('ALP'),
      AST: emptySeries('AST'),
      ALT: emptySeries('ALT'),
      GGT: emptySeries('GGT'),
      TBIL: emptySeries('TBIL'),
      DBIL: emptySeries('DBIL'),
    },
    findings: {
      divergence: {
        present: alp === 'rising' && (ast === 'falling' || alt === 'falling'),
        alp,
        ast,
        alt,
        observationIds: ['alp-1', 'alp-2', 'alt-1', 'alt-2'],
      },
      rRatio: { first: null, last: null, fall: null },
      deRitis:
        spec.deRitis === undefined
          ? null
          : {
              value: spec.deRitis,
              time: '2026-05-30T00:00:00.000Z',
              atLeastOne: spec.deRitis >= 1,
              astObservationId: 'ast-2',
              altObservationId: 'alt-2',
            },
      severity:
        alpXUln === null || tier === null
          ? null
          : { tier, alpXUln, atLeast2xUln: alpXUln >= 2, observationId: 'alp-2' },
      ggt: { status: spec.ggt ?? 'raised', latest: null },
      bilirubin: {
        status: 'normal',
        hasDirect: spec.hasDirect ?? true,
        directFraction: null,
        latestTotal: null,
        latestDirect: null,
      },
    },
    excluded: [],
    dataQuality: [],
  };
}

const emptyContext: PatientContext = {
  conditions: [],
  cholestaticDrugs: [],
  immunosuppressants: [],
  abdominalImaging: null,
  pregnancy: null,
};

function withConditions(
  ...groups: PatientContext['conditions'][number]['group'][]
): PatientContext {
  return {
    ...emptyContext,
    conditions: groups.map((group) => ({
      group,
      label: group,
      conditionId: `cond-${group}`,
      code: 'x',
    })),
  };
}

function mainCard(recommendations: Recommendation[]): CholestaticShiftRecommendation {
  const card = recommendations.find(
    (recommendation): recommendation is CholestaticShiftRecommendation =>
      recommendation.kind === 'cholestatic-shift',
  );
  if (card === undefined) {
    throw new Error('no cholestatic-shift recommendation');
  }
  return card;
}

describe('applyRules', () => {
  describe('silence where nothing is wrong', () => {
    it.each<[string, AssessmentSpec]>([
      ['ALP is stable', { alp: 'stable' }],
      ['ALP has too few results to trend', { alp: 'insufficient' }],
      ['ALP rises but AST and ALT are stable', { ast: 'stable', alt: 'stable' }],
      ['ALP rises, AST and ALT have too few results', { ast: 'insufficient', alt: 'insufficient' }],
      ['ALP rises while ALT falls but AST rises', { ast: 'rising' }],
      ['ALP rises but stays at or below its ULN', { alpXUln: 0.9 }],
      ['ALP rises exactly to its ULN', { alpXUln: 1 }],
      ['no severity could be computed', { alpXUln: null }],
    ])('When %s, returns nothing', (_title, spec) => {
      expect(applyRules(buildAssessment(spec), emptyContext, content.contextRules)).toEqual([]);
    });
  });

  describe('severity tier (S1–S3)', () => {
    it.each([
      [3, 'below-5x'],
      [5, '5-10x'],
      [10, '5-10x'],
      [10.1, 'above-10x'],
    ])('When ALP is %s×ULN, the main recommendation carries tier %s', (alpXUln, tier) => {
      const [recommendation] = applyRules(
        buildAssessment({ alpXUln }),
        emptyContext,
        content.contextRules,
      );

      expect(recommendation).toMatchObject({ kind: 'cholestatic-shift', tier });
    });

    it('When only ALT falls (AST has too few results), the shift still counts', () => {
      const recommendations = applyRules(
        buildAssessment({ ast: 'insufficient' }),
        emptyContext,
        content.contextRules,
      );

      expect(recommendations.map((r) => r.kind)).toEqual(['cholestatic-shift']);
    });
  });

  describe('GGT interpretation (W1)', () => {
    it('When GGT is normal, gives the non-hepatic card with a bone ALP order and nothing hepatic', () => {
      const recommendations = applyRules(
        buildAssessment({ ggt: 'normal', hasDirect: false }),
        {
          ...withConditions('ibd'),
          cholestaticDrugs: [],
        },
        content.contextRules,
      );

      expect(recommendations).toEqual([
        expect.objectContaining({ kind: 'non-hepatic-alp', suggestions: ['bone-alp'] }),
      ]);
    });

    it('When no GGT is in the window, suggests one; when GGT is raised, does not', () => {
      expect(
        mainCard(
          applyRules(
            buildAssessment({ ggt: 'none-in-window' }),
            emptyContext,
            content.contextRules,
          ),
        ).suggestions,
      ).toContain('ggt');
      expect(
        mainCard(applyRules(buildAssessment({ ggt: 'raised' }), emptyContext, content.contextRules))
          .suggestions,
      ).not.toContain('ggt');
    });
  });

  describe('suggestions (W2, W4–W7)', () => {
    it('When no direct bilirubin is in the window, suggests fractionating it', () => {
      expect(
        mainCard(
          applyRules(buildAssessment({ hasDirect: false }), emptyContext, content.contextRules),
        ).suggestions,
      ).toContain('fractionated-bilirubin');
      expect(
        mainCard(
          applyRules(buildAssessment({ hasDirect: true }), emptyContext, content.contextRules),
        ).suggestions,
      ).not.toContain('fractionated-bilirubin');
    });

    it('When nothing in the record points further, suggests ultrasound first and neither MRCP nor serology', () => {
      expect(
        mainCard(applyRules(buildAssessment(), emptyContext, content.contextRules)).suggestions,
      ).toEqual(['abdominal-ultrasound']);
    });

    // Issue 13 (class 8): MRCP to look for PSC is moot once PSC is diagnosed.
    it.each([
      ['ibd', ['abdominal-ultrasound', 'mrcp']],
      ['psc', ['abdominal-ultrasound', 'autoimmune-panel']],
    ] as const)('When %s is on record, suggests %j', (group, expected) => {
      expect(
        mainCard(applyRules(buildAssessment(), withConditions(group), content.contextRules))
          .suggestions,
      ).toEqual(expected);
    });

    it('When an ultrasound is already on record and ALP still rises, suggests MRCP instead of another ultrasound', () => {
      const context: PatientContext = {
        ...emptyContext,
        abdominalImaging: {
          resourceType: 'DiagnosticReport',
          id: 'us-1',
          date: '2026-05-01T00:00:00Z',
          conclusion: null,
          findings: [],
        },
      };

      expect(
        mainCard(applyRules(buildAssessment(), context, content.contextRules)).suggestions,
      ).toEqual(['mrcp']);
    });

    it.each([['aih'], ['pbc'], ['psc']] as const)(
      'When %s is on record, suggests the autoimmune serology',
      (group) => {
        expect(
          mainCard(applyRules(buildAssessment(), withConditions(group), content.contextRules))
            .suggestions,
        ).toContain('autoimmune-panel');
      },
    );

    it.each([['hbv'], ['alcohol'], ['cirrhosis'], ['nash']] as const)(
      'When only %s is on record, does not suggest the autoimmune serology or MRCP',
      (group) => {
        const { suggestions } = mainCard(
          applyRules(buildAssessment(), withConditions(group), content.contextRules),
        );

        expect(suggestions).not.toContain('autoimmune-panel');
        expect(suggestions).not.toContain('mrcp');
      },
    );
  });

  describe('differential ranking (C1–C6)', () => {
    const top = (assessment: Assessment, context: PatientContext) =>
      mainCard(applyRules(assessment, context, content.contextRules)).differential[0];

    it('When nothing in the record supports a cause, keeps the guideline order with stones first and no score', () => {
      const { differential } = mainCard(
        applyRules(buildAssessment({ ageYears: 40 }), emptyContext, content.contextRules),
      );

      expect(differential.map((cause) => cause.id)).toEqual([
        'C1',
        'C2',
        'C3',
        'C4',
        'C5',
        'C6',
        'PSC',
      ]);
      expect(differential.every((cause) => cause.score === 0)).toBe(true);
    });

    it.each<[string, AssessmentSpec, PatientContext, string]>([
      ['bile-duct stones are on record', {}, withConditions('stones'), 'C1'],
      ['cirrhosis is on record', {}, withConditions('cirrhosis'), 'C2'],
      ['AST/ALT is at least 1', { deRitis: 1.2 }, emptyContext, 'C2'],
      ['AIH and PBC are on record', {}, withConditions('aih', 'pbc'), 'C3'],
      ['liver metastases are on record', {}, withConditions('malignancy'), 'C5'],
      ['sarcoidosis or amyloidosis is on record', {}, withConditions('infiltrative'), 'C5'],
      ['ALP is above 10×ULN', { alpXUln: 12 }, emptyContext, 'C5'],
      ['chronic hepatitis B is on record', {}, withConditions('hbv'), 'C6'],
      ['alcohol-related liver disease is on record', {}, withConditions('alcohol'), 'C6'],
      ['IBD is on record', {}, withConditions('ibd'), 'PSC'],
    ])('When %s, ranks %s first', (_title, spec, context, expected) => {
      expect(top(buildAssessment({ ageYears: 40, ...spec }), context)?.id).toBe(expected);
    });

    it('When AIH is treated with azathioprine, the overlap gains a reason naming the drug', () => {
      const context: PatientContext = {
        ...withConditions('aih'),
        immunosuppressants: ['azathioprine'],
      };
      const c3 = mainCard(
        applyRules(buildAssessment(), context, content.contextRules),
      ).differential.find((cause) => cause.id === 'C3');

      expect(c3?.reasons).toContain('on azathioprine');
    });

    it('When AST/ALT is below 1 and no cirrhosis is on record, C2 gets no support', () => {
      const c2 = mainCard(
        applyRules(buildAssessment({ deRitis: 0.7 }), emptyContext, content.contextRules),
      ).differential.find((cause) => cause.id === 'C2');

      expect(c2?.score).toBe(0);
    });
  });

  describe('pitfalls (X1–X4)', () => {
    it.each<[string, AssessmentSpec, PatientContext, string[]]>([
      ['nothing is on record', {}, emptyContext, ['X2']],
      ['NASH is on record and ALP ≥2×ULN', { alpXUln: 2.5 }, withConditions('nash'), ['X1', 'X2']],
      ['NASH is on record but ALP <2×ULN', { alpXUln: 1.5 }, withConditions('nash'), ['X2']],
      ['stones are on record', {}, withConditions('stones'), ['X2', 'X3']],
      ['PSC is on record', {}, withConditions('psc'), ['X2', 'X4']],
      ['IBD is on record', {}, withConditions('ibd'), ['X2', 'X4']],
    ])('When %s, warns about %j', (_title, spec, context, expected) => {
      expect(
        mainCard(applyRules(buildAssessment(spec), context, content.contextRules)).pitfalls,
      ).toEqual(expected);
    });
  });

  describe('medication review (W8, C4)', () => {
    const drug = content.drugs.cholestatic.find((entry) => entry.name === 'clopidogrel')!;
    const onDrug: PatientContext = {
      ...emptyContext,
      cholestaticDrugs: [
        {
          drug,
          matchedBy: 'rxnorm',
          medicationRequestId: 'med-1',
          sourceType: 'MedicationRequest',
          recordText: 'clopidogrel 75 mg',
          exposure: { status: 'active', endedOn: null, daysSinceEnd: null, startedOn: null },
        },
      ],
    };

    it('When a cholestatic drug is active and the shift is present, adds a medication review after the main card', () => {
      const recommendations = applyRules(
        buildAssessment({ ageYears: 45 }),
        onDrug,
        content.contextRules,
      );

      expect(recommendations.map((r) => r.kind)).toEqual([
        'cholestatic-shift',
        'medication-review',
      ]);
      expect(recommendations[1]).toMatchObject({ olderAdult: false });
    });

    it('When the patient is 60 or over, the review carries the older-adult note', () => {
      expect(
        applyRules(buildAssessment({ ageYears: 60 }), onDrug, content.contextRules)[1],
      ).toMatchObject({
        kind: 'medication-review',
        olderAdult: true,
      });
    });

    it('When the drug is active but there is no shift, says nothing', () => {
      expect(applyRules(buildAssessment({ alp: 'stable' }), onDrug, content.contextRules)).toEqual(
        [],
      );
    });

    it('When GGT is normal, the ALP is likely not hepatic and no medication review is added', () => {
      expect(
        applyRules(buildAssessment({ ggt: 'normal' }), onDrug, content.contextRules).map(
          (r) => r.kind,
        ),
      ).toEqual(['non-hepatic-alp']);
    });
  });

  it('When the series are long, each order cites the newest six ALP, AST and ALT results plus the ALP that set the tier', () => {
    const assessment = buildAssessment();
    const pointsOf = (analyte: Analyte, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        observationId: `${analyte.toLowerCase()}-${index}`,
        loinc: 'x',
        time: new Date(Date.UTC(2026, 0, 1 + index)).toISOString(),
        timeMs: Date.UTC(2026, 0, 1 + index),
        value: 100,
        unit: 'U/L',
        uln: 50,
        ulnSource: 'reference-range' as const,
        xUln: 2,
      }));
    assessment.series.ALP.points = pointsOf('ALP', 10);
    assessment.series.ALT.points = pointsOf('ALT', 3);
    assessment.findings.divergence.observationIds = [
      ...assessment.series.ALP.points,
      ...assessment.series.ALT.points,
    ].map((point) => point.observationId);
    assessment.findings.severity = {
      tier: 'below-5x',
      alpXUln: 2,
      atLeast2xUln: true,
      observationId: 'alp-9',
    };

    const [recommendation] = applyRules(assessment, emptyContext, content.contextRules);

    expect(recommendation?.reasonObservationIds).toEqual([
      'alp-4',
      'alp-5',
      'alp-6',
      'alp-7',
      'alp-8',
      'alp-9',
      'alt-0',
      'alt-1',
      'alt-2',
    ]);
  });
});

describe('applyRules over the scenario table', () => {
  function mainFor(scenario: Scenario): CholestaticShiftRecommendation {
    const { assessment, context } = assessScenario(scenario, content);
    return mainCard(applyRules(assessment, context, content.contextRules));
  }

  const topCauses = SCENARIOS.flatMap((scenario) =>
    scenario.topCause === undefined ? [] : [[scenario.story, scenario.topCause, scenario] as const],
  );
  const pitfalls = SCENARIOS.flatMap((scenario) =>
    scenario.pitfalls === undefined ? [] : [[scenario.story, scenario.pitfalls, scenario] as const],
  );

  it.each(topCauses)('%s, ranks %s first', (_story, topCause, scenario) => {
    expect(mainFor(scenario).differential[0]?.id).toBe(topCause);
  });

  it.each(pitfalls)('%s, warns about %j', (_story, expected, scenario) => {
    expect(mainFor(scenario).pitfalls).toEqual(expected);
  });
});

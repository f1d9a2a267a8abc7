import { loadOrderWarningContent } from '../../../src/cards/order-content.js';
import { assess } from '../../../src/engine/assess.js';
import type { Assessment } from '../../../src/engine/types.js';
import {
  judgeLiverTestsForOrder,
  type CholestaticSign,
  type CriticalSign,
} from '../../../src/rules/order-warning.js';
import { FIXED_NOW, buildLab, buildLabSeries } from '../../fixtures/observation.js';

const content = loadOrderWarningContent();
const ALP_ULN = 120;
const ALT_ULN = 40;

function alp(values: number[]): fhir4.Observation[] {
  return buildLabSeries({ analyte: 'ALP', values, refHigh: ALP_ULN, everyDays: 14 });
}
function alt(values: number[]): fhir4.Observation[] {
  return buildLabSeries({ analyte: 'ALT', values, refHigh: ALT_ULN, everyDays: 14 });
}
function ast(values: number[]): fhir4.Observation[] {
  return buildLabSeries({ analyte: 'AST', values, refHigh: 40, everyDays: 14 });
}

function assessLabs(observations: fhir4.Observation[]): Assessment {
  return assess({ observations, patient: null, now: FIXED_NOW, lookbackDays: 180 });
}

interface Case {
  story: string;
  labs: () => fhir4.Observation[];
  indicator: 'warning' | 'critical' | null;
  signs?: CholestaticSign[];
  critical?: CriticalSign[];
}

const CASES: Case[] = [
  {
    story: 'ALP rising to 2.5×ULN while ALT and AST fall (the cholestatic shift)',
    labs: () => [...alp([130, 200, 300]), ...alt([200, 120, 60]), ...ast([180, 110, 50])],
    indicator: 'warning',
    signs: ['alp-rising', 'alp-at-least', 'r-pattern', 'cholestatic-shift'],
  },
  {
    story: 'ALP steady at 2.2×ULN with a normal ALT',
    labs: () => [...alp([262, 265, 264]), ...alt([30, 31, 30])],
    indicator: 'warning',
    signs: ['alp-at-least', 'r-pattern'],
  },
  {
    story: 'ALP rising within 1.1–1.6×ULN with ALT raised and rising (mixed R)',
    labs: () => [...alp([130, 160, 195]), ...alt([90, 110, 140])],
    indicator: 'warning',
    signs: ['alp-rising', 'r-pattern'],
  },
  {
    story: 'ALP above 10×ULN',
    labs: () => [...alp([900, 1100, 1300]), ...alt([50, 45, 40])],
    indicator: 'critical',
    critical: ['alp-above'],
  },
  {
    story: 'ALP 2.5×ULN with a raised direct bilirubin',
    labs: () => [
      ...alp([290, 300, 300]),
      buildLab({ analyte: 'DBIL', value: 1.2, refHigh: 0.3, daysAgo: 1 }),
    ],
    indicator: 'critical',
    critical: ['direct-bilirubin-raised'],
  },
  {
    story: 'normal and stable liver tests',
    labs: () => [...alp([80, 82, 81]), ...alt([25, 24, 26])],
    indicator: null,
  },
  {
    story: 'ALP rising significantly but still inside its reference interval',
    labs: () => [...alp([40, 70, 110]), ...alt([25, 24, 26])],
    indicator: null,
  },
  {
    story: 'a stable, hepatocellular picture (ALP 1.2×ULN, ALT 8×ULN)',
    labs: () => [...alp([142, 145, 144]), ...alt([320, 322, 318])],
    indicator: null,
  },
  {
    story: 'a raised ALP with a normal GGT (bone or another non-hepatic source, W1)',
    labs: () => [
      ...alp([262, 265, 264]),
      ...alt([30, 31, 30]),
      buildLab({ analyte: 'GGT', value: 30, refHigh: 60, daysAgo: 1 }),
    ],
    indicator: null,
  },
  {
    story: 'an ALP reported only as below a raised figure ("<300")',
    labs: () => [buildLab({ analyte: 'ALP', value: 300, comparator: '<', refHigh: 120 })],
    indicator: null,
  },
  {
    story: 'no ALP at all',
    labs: () => alt([200, 120, 60]),
    indicator: null,
  },
];

describe('judgeLiverTestsForOrder', () => {
  it.each(CASES)('$story → $indicator', ({ labs, indicator, signs, critical }) => {
    const judgement = judgeLiverTestsForOrder(assessLabs(labs()), content);

    expect(judgement?.indicator ?? null).toBe(indicator);
    expect(judgement?.signs ?? []).toEqual(signs ?? judgement?.signs ?? []);
    expect(judgement?.criticalSigns ?? []).toEqual(critical ?? judgement?.criticalSigns ?? []);
  });

  it('Takes its thresholds from the reviewed content: a higher ×ULN bar silences a steady 2.2×ULN', () => {
    const steady = assessLabs([...alp([262, 265, 264]), ...alt([30, 31, 30])]);
    const stricter = {
      ...content,
      criteria: { ...content.criteria, alpAtLeastXUln: 3, rPatterns: [] },
    };

    expect(judgeLiverTestsForOrder(steady, content)?.indicator).toBe('warning');
    expect(judgeLiverTestsForOrder(steady, stricter)).toBeNull();
  });

  it('Raises to critical only above the content’s ALP multiple', () => {
    const high = assessLabs([...alp([700, 720, 710]), ...alt([30, 31, 30])]);
    const lowerBar = { ...content, critical: { ...content.critical, alpAboveXUln: 5 } };

    expect(judgeLiverTestsForOrder(high, content)?.indicator).toBe('warning');
    expect(judgeLiverTestsForOrder(high, lowerBar)?.indicator).toBe('critical');
  });
});

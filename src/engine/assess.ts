import { ANALYTE_LIST } from '../terminology/analytes.js';
import type { Analyte, AnalyteSeries, Assessment } from './types.js';

export interface AssessInput {
  observations: readonly fhir4.Observation[];
  patient: fhir4.Patient | null;
  now: Date;
  lookbackDays: number;
}

function buildEmptySeries(analyte: Analyte): AnalyteSeries {
  return {
    analyte,
    unit: analyte === 'TBIL' || analyte === 'DBIL' ? 'umol/L' : 'U/L',
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

/** Analyses a patient's liver chemistries. Pure: the clock comes in as `now`. */
export function assess(input: {
  observations: readonly fhir4.Observation[];
  patient: fhir4.Patient | null;
  now: Date;
  lookbackDays: number;
}): Assessment {
  const series = Object.fromEntries(ANALYTE_LIST.map((a) => [a, buildEmptySeries(a)])) as Record<
    Analyte,
    AnalyteSeries
  >;
  return {
    evaluatedAt: input.now.toISOString(),
    lookbackDays: input.lookbackDays,
    patient: { id: input.patient?.id ?? null, sex: 'unknown', ageYears: null },
    series,
    findings: {
      divergence: {
        present: false,
        alp: 'insufficient',
        ast: 'insufficient',
        alt: 'insufficient',
        observationIds: [],
      },
      rRatio: { first: null, last: null, fall: null },
      deRitis: null,
      severity: null,
      ggt: { status: 'none-in-window', latest: null },
      bilirubin: {
        status: 'none-in-window',
        hasDirect: false,
        directFraction: null,
        latestTotal: null,
        latestDirect: null,
      },
    },
    excluded: [],
    dataQuality: [{ code: 'no-data', message: 'Analysis not yet implemented.' }],
  };
}

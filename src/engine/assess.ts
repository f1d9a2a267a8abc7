import { ANALYTE_LIST } from '../terminology/analytes.js';
import { buildDataQuality } from './data-quality.js';
import { buildFindings } from './findings.js';
import { makeAgeAt, readPatient } from './patient.js';
import { isReading, readObservation } from './read-observation.js';
import type { Reading } from './read-observation.js';
import { buildSeries } from './series.js';
import type { Analyte, Assessment, ExcludedResult } from './types.js';

const DAY_MS = 86_400_000;

export interface AssessInput {
  observations: readonly fhir4.Observation[];
  patient: fhir4.Patient | null;
  /** The evaluation instant; the engine never reads the clock. */
  now: Date;
  lookbackDays: number;
}

function byAnalyte<T>(make: (analyte: Analyte) => T): Record<Analyte, T> {
  return {
    ALP: make('ALP'),
    AST: make('AST'),
    ALT: make('ALT'),
    GGT: make('GGT'),
    TBIL: make('TBIL'),
    DBIL: make('DBIL'),
  };
}

function compareExcluded(x: ExcludedResult, y: ExcludedResult): number {
  if (x.observationId !== y.observationId) {
    return x.observationId < y.observationId ? -1 : 1;
  }
  return x.reason < y.reason ? -1 : x.reason > y.reason ? 1 : 0;
}

/**
 * Analyses one patient's liver chemistries: cleans and converts the Observations (any order, any
 * mix of codes; others are ignored), builds a series per analyte inside the look-back window, and
 * derives the findings. Pure and deterministic: the same input in any order gives the same output.
 */
export function assess(input: {
  observations: readonly fhir4.Observation[];
  patient: fhir4.Patient | null;
  now: Date;
  lookbackDays: number;
}): Assessment {
  const { observations, now, lookbackDays } = input;
  const patient = readPatient(input.patient, now);
  const nowMs = now.getTime();
  const context = {
    sex: patient.sex,
    // ULNs depend on the age when the specimen was taken, not on today's age (reference.md §2b).
    ageAt: makeAgeAt(input.patient?.birthDate),
    nowMs,
    windowStartMs: nowMs - lookbackDays * DAY_MS,
  };

  const readings = byAnalyte<Reading[]>(() => []);
  const excluded: ExcludedResult[] = [];
  for (const observation of observations) {
    const result = readObservation(observation);
    if (result === null) {
      continue;
    }
    if (isReading(result)) {
      readings[result.analyte].push(result);
    } else {
      excluded.push(result);
    }
  }

  const built = byAnalyte((analyte) => buildSeries(analyte, readings[analyte], context));
  const series = byAnalyte((analyte) => built[analyte].series);
  const trendPoints = byAnalyte((analyte) => built[analyte].trendPoints);
  for (const analyte of ANALYTE_LIST) {
    for (const e of built[analyte].excluded) {
      excluded.push(e);
    }
  }
  excluded.sort(compareExcluded);

  return {
    evaluatedAt: now.toISOString(),
    lookbackDays,
    patient,
    series,
    findings: buildFindings(series, trendPoints),
    excluded,
    dataQuality: buildDataQuality(series, excluded, now),
  };
}

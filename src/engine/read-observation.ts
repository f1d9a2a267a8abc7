import { ANALYTES, findAnalyteCode, type AnalyteCode } from '../terminology/analytes.js';
import { LOINC } from '../terminology/systems.js';
import { parseFhirDateTime } from './instant.js';
import { applyFactor, readQuantityUnit, resolveUnit } from './units.js';
import type { UnitKind } from './units.js';
import type { Analyte, ExcludedResult, LabPoint } from './types.js';

/** One liver-chemistry Observation, cleaned and converted, before windowing, dedupe and ULN. */
export interface Reading {
  observation: fhir4.Observation;
  observationId: string;
  analyte: Analyte;
  loinc: string;
  kind: UnitKind;
  timeMs: number;
  /** In the canonical unit. */
  value: number;
  reportedValue: number;
  reportedUnit: string;
  censored: LabPoint['censored'];
  /** Higher wins a duplicate: corrected/amended results replace the final one they revise. */
  statusRank: number;
  issuedMs: number;
  lastUpdatedMs: number;
}

/**
 * Status policy. `preliminary` is excluded: the lab has not verified it and replaces it with the final
 * result under the same id, so a trend built on it can change under the clinician's eyes; chemistry
 * results are rarely released as preliminary. `registered` has no value yet and `unknown` cannot be
 * trusted.
 */
const STATUS_RANK: ReadonlyMap<string, number> = new Map<fhir4.Observation['status'], number>([
  ['final', 1],
  ['amended', 2],
  ['corrected', 2],
  ['preliminary', 0],
  ['registered', 0],
  ['cancelled', 0],
  ['entered-in-error', 0],
  ['unknown', 0],
]);

function readTimeMs(obs: fhir4.Observation): number {
  let ms = parseFhirDateTime(obs.effectiveDateTime);
  if (Number.isNaN(ms)) {
    ms = parseFhirDateTime(obs.effectiveInstant);
  }
  if (Number.isNaN(ms)) {
    ms = parseFhirDateTime(obs.effectivePeriod?.start);
  }
  return Number.isNaN(ms) ? parseFhirDateTime(obs.issued) : ms;
}

function findLoinc(obs: fhir4.Observation): AnalyteCode | null {
  // Read defensively: the engine may be handed loosely validated resources.
  const codings = obs.code?.coding;
  if (!Array.isArray(codings)) {
    return null;
  }
  for (const coding of codings) {
    if (coding?.system === LOINC && typeof coding.code === 'string') {
      const row = findAnalyteCode(coding.code);
      if (row !== undefined) {
        return row;
      }
    }
  }
  return null;
}

/** `<`, `<=`, `>`, `>=` mark a censored value; anything else (e.g. R5's `ad`) is not a bound. */
function readCensor(comparator: string | undefined): LabPoint['censored'] | 'invalid' {
  if (comparator === undefined) {
    return undefined;
  }
  switch (comparator) {
    case '<':
    case '<=':
    case '>':
    case '>=':
      return comparator;
    default:
      return 'invalid';
  }
}

/**
 * Classifies one Observation: null when it is not a liver chemistry (ignored), an exclusion with its
 * reason, or the cleaned reading. One object per result: this runs once per Observation.
 */
export function readObservation(obs: fhir4.Observation): Reading | ExcludedResult | null {
  const code = findLoinc(obs);
  if (code === null) {
    return null;
  }
  const { analyte, loinc } = code;
  const observationId = obs.id ?? '(no id)';
  const exclude = (reason: string): ExcludedResult => ({ observationId, reason, analyte });

  const statusRank = STATUS_RANK.get(obs.status) ?? 0;
  if (statusRank === 0) {
    return exclude(`status '${String(obs.status)}' is not a released result`);
  }
  const timeMs = readTimeMs(obs);
  if (Number.isNaN(timeMs)) {
    return exclude('no usable time (effective[x] or issued, precise to the day)');
  }
  // Unvalidated JSON may hold null (or any type) where FHIR has an optional object.
  if (typeof obs.dataAbsentReason === 'object' && obs.dataAbsentReason !== null) {
    const why = obs.dataAbsentReason.coding?.[0]?.code ?? obs.dataAbsentReason.text ?? 'unknown';
    return exclude(`no value: data absent (${why})`);
  }
  const quantity = obs.valueQuantity;
  if (typeof quantity !== 'object' || quantity === null) {
    return exclude('no numeric value (valueQuantity)');
  }
  const reportedValue = quantity.value;
  if (typeof reportedValue !== 'number' || !Number.isFinite(reportedValue)) {
    return exclude('valueQuantity has no numeric value');
  }
  if (reportedValue <= 0) {
    return exclude(`value ${reportedValue} is not positive`);
  }
  const censored = readCensor(quantity.comparator);
  if (censored === 'invalid') {
    return exclude(`comparator '${String(quantity.comparator)}' is not a bound`);
  }
  const reportedUnit = readQuantityUnit(quantity);
  if (typeof reportedUnit !== 'string' || reportedUnit.trim() === '') {
    return exclude('value has no unit');
  }
  const kind = ANALYTES[analyte].kind;
  const unit = resolveUnit(reportedUnit, kind);
  if (!unit.ok) {
    return exclude(unit.reason);
  }
  const value = applyFactor(reportedValue, unit.factor);
  const { maxValue } = ANALYTES[analyte].plausibility;
  if (value > maxValue) {
    const canonical = ANALYTES[analyte].canonicalUnit;
    return exclude(
      `value ${reportedValue} ${reportedUnit} is above the plausible maximum (${maxValue} ${canonical})`,
    );
  }
  const issuedMs = obs.issued === undefined ? NaN : parseFhirDateTime(obs.issued);
  const lastUpdated = obs.meta?.lastUpdated;
  const lastUpdatedMs = lastUpdated === undefined ? NaN : parseFhirDateTime(lastUpdated);
  return {
    observation: obs,
    observationId,
    analyte,
    loinc,
    kind,
    timeMs,
    value,
    reportedValue,
    reportedUnit,
    censored,
    statusRank,
    issuedMs: Number.isNaN(issuedMs) ? 0 : issuedMs,
    lastUpdatedMs: Number.isNaN(lastUpdatedMs) ? 0 : lastUpdatedMs,
  };
}

export function isReading(result: Reading | ExcludedResult): result is Reading {
  return 'timeMs' in result;
}

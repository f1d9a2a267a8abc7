import {
  ADULT_AGE_YEARS,
  ANALYTES,
  PEDIATRIC_DEFAULT_ULNS,
  selectDefaultUln,
} from '../terminology/analytes.js';
import {
  ADMINISTRATIVE_GENDER,
  REFERENCE_RANGE_MEANING,
  SNOMED_CT,
} from '../terminology/systems.js';
import { applyFactor, readQuantityUnit, resolveUnit } from './units.js';
import type { UnitKind } from './units.js';
import type { AdministrativeSex, Analyte, UlnSource } from './types.js';

export interface Uln {
  uln: number;
  ulnSource: UlnSource;
  /** Only for a default under 18 years: which interval was used (see LabPoint.defaultInterval). */
  defaultInterval?: string;
  /** A range high limit (canonical unit) that was not believed, so the default stands in for it. */
  rejectedUln?: number;
}

const SNOMED_SEX: Readonly<Record<string, AdministrativeSex>> = {
  '248153007': 'male',
  '248152002': 'female',
};

function buildDefaultUln(analyte: Analyte, sex: AdministrativeSex): Uln {
  const fallback = selectDefaultUln(analyte, sex);
  return {
    uln: fallback.uln,
    ulnSource: fallback.sexSpecific ? 'default-sex-specific' : 'default-unisex',
  };
}

function describeInterval(analyte: Analyte, sex: AdministrativeSex, ageYears: number): Uln {
  const picked = selectDefaultUln(analyte, sex, ageYears);
  const unit = ANALYTES[analyte].canonicalUnit === 'umol/L' ? 'µmol/L' : 'U/L';
  const who = picked.sexSpecific ? `${sex} ` : sex === 'unknown' ? 'sex unknown, ' : '';
  const interval =
    picked.band === undefined
      ? `${who}adult interval, no paediatric default on file`
      : `${who}${picked.band.label}, ${picked.band.source}`;
  return {
    uln: picked.uln,
    ulnSource: picked.sexSpecific ? 'default-sex-specific' : 'default-unisex',
    defaultInterval: `${analyte} ≤${picked.uln} ${unit} (${interval})`,
  };
}

// Children's defaults by analyte, sex and completed year of age: few enough to build each once.
const PEDIATRIC_ULNS = new Map<string, Uln>();

// Up to this age a band may apply (ALP's last band ends at 19 y for men); the card names intervals
// below 18 at least.
const PEDIATRIC_UNTIL = Math.max(
  ADULT_AGE_YEARS,
  ...Object.values(PEDIATRIC_DEFAULT_ULNS).flatMap((bands) => bands.map((b) => b.toYears)),
);

/** The default ULN for this analyte, sex and age at the result's date (reference.md §2b). */
function defaultUln(analyte: Analyte, sex: AdministrativeSex, ageYears: number | null): Uln {
  if (ageYears === null || ageYears >= PEDIATRIC_UNTIL) {
    return DEFAULT_ULNS[analyte][sex];
  }
  const key = `${analyte}|${sex}|${ageYears}`;
  let uln = PEDIATRIC_ULNS.get(key);
  if (uln === undefined) {
    uln = describeInterval(analyte, sex, ageYears);
    PEDIATRIC_ULNS.set(key, uln);
  }
  return uln;
}

function buildDefaultUlns(analyte: Analyte): Readonly<Record<AdministrativeSex, Uln>> {
  return {
    male: buildDefaultUln(analyte, 'male'),
    female: buildDefaultUln(analyte, 'female'),
    unknown: buildDefaultUln(analyte, 'unknown'),
  };
}

// Built once: the default is the common case, and the objects are only read, never handed out.
const DEFAULT_ULNS: Readonly<Record<Analyte, Readonly<Record<AdministrativeSex, Uln>>>> = {
  ALP: buildDefaultUlns('ALP'),
  AST: buildDefaultUlns('AST'),
  ALT: buildDefaultUlns('ALT'),
  GGT: buildDefaultUlns('GGT'),
  TBIL: buildDefaultUlns('TBIL'),
  DBIL: buildDefaultUlns('DBIL'),
};

type Applicability = 'none' | 'matches' | 'other';

function readApplicability(range: fhir4.ObservationReferenceRange, sex: AdministrativeSex) {
  const appliesTo = range.appliesTo ?? [];
  if (appliesTo.length === 0) {
    return 'none' satisfies Applicability;
  }
  for (const concept of appliesTo) {
    for (const coding of concept.coding ?? []) {
      const named =
        coding.system === ADMINISTRATIVE_GENDER
          ? coding.code
          : coding.system === SNOMED_CT && coding.code !== undefined
            ? SNOMED_SEX[coding.code]
            : undefined;
      if (named !== undefined && named === sex) {
        return 'matches' satisfies Applicability;
      }
    }
  }
  // Applies to the other sex, or to a population we cannot read (race, pregnancy, ...).
  return 'other' satisfies Applicability;
}

function isNormalRange(range: fhir4.ObservationReferenceRange): boolean {
  const codings = range.type?.coding;
  if (codings === undefined || codings.length === 0) {
    return true;
  }
  return codings.some((c) => c.system === REFERENCE_RANGE_MEANING && c.code === 'normal');
}

function isAgeApplicable(range: fhir4.ObservationReferenceRange, ageYears: number | null) {
  if (range.age === undefined || ageYears === null) {
    return true;
  }
  const low = range.age.low?.value;
  const high = range.age.high?.value;
  return (low === undefined || ageYears >= low) && (high === undefined || ageYears <= high);
}

function convertHigh(high: fhir4.Quantity, fallbackUnit: string, kind: UnitKind): number | null {
  if (high.value === undefined || !Number.isFinite(high.value) || high.value <= 0) {
    return null;
  }
  const unit = resolveUnit(readQuantityUnit(high) ?? fallbackUnit, kind);
  return unit.ok ? applyFactor(high.value, unit.factor) : null;
}

/**
 * The upper limit of normal for one result, in the canonical unit: the result's own
 * referenceRange.high (a range for the patient's sex first, then one without `appliesTo`), else the
 * default from the analyte table for the sex and the age in completed years at the result's date.
 * A high limit in a unit we cannot convert falls back to the default.
 */
export function resolveUln(
  observation: fhir4.Observation,
  reportedUnit: string,
  analyte: Analyte,
  kind: UnitKind,
  sex: AdministrativeSex,
  ageYears: number | null,
): Uln {
  const ranges = observation.referenceRange;
  if (!Array.isArray(ranges) || ranges.length === 0) {
    return defaultUln(analyte, sex, ageYears);
  }
  let general: number | null = null;
  let rejected: number | undefined;
  const plausible = ANALYTES[analyte].plausibility.uln;
  for (const range of ranges) {
    // Unvalidated JSON: a range may be null or not an object at all.
    if (typeof range !== 'object' || range === null) {
      continue;
    }
    if (range.high === undefined || !isNormalRange(range) || !isAgeApplicable(range, ageYears)) {
      continue;
    }
    const applicability = readApplicability(range, sex);
    if (applicability === 'other') {
      continue;
    }
    const high = convertHigh(range.high, reportedUnit, kind);
    if (high === null) {
      continue;
    }
    if (high < plausible.low || high > plausible.high) {
      rejected ??= high;
      continue;
    }
    if (applicability === 'matches') {
      return { uln: high, ulnSource: 'reference-range' };
    }
    general ??= high;
  }
  if (general !== null) {
    return { uln: general, ulnSource: 'reference-range' };
  }
  const fallback = defaultUln(analyte, sex, ageYears);
  return rejected === undefined ? fallback : { ...fallback, rejectedUln: rejected };
}

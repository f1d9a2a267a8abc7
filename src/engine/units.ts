import ucum from '@lhncbc/ucum-lhc';
import { BILIRUBIN_MOLAR_MASS } from '../terminology/analytes.js';
import type { CanonicalUnit } from '../terminology/analytes.js';
import { UCUM } from '../terminology/systems.js';

export type UnitKind = 'enzyme' | 'bilirubin';

export type UnitResolution =
  { ok: true; ucumCode: string; factor: number } | { ok: false; reason: string };

const CANONICAL: Readonly<Record<UnitKind, CanonicalUnit>> = {
  enzyme: 'U/L',
  bilirubin: 'umol/L',
};

/**
 * Reviewed spellings that are not valid UCUM (or are UCUM but mean something else) and what they mean
 * on a catalytic-activity result. `IU/L` is what many labs send; `[IU]/L` is UCUM but arbitrary, so
 * ucum-lhc refuses to convert it, yet for these enzymes an IU is defined as 1 µmol/min = 1 U.
 * Applied only to enzymes, never to other analytes.
 */
const ENZYME_UNIT_ALIASES: ReadonlyMap<string, string> = new Map([
  ['IU/L', 'U/L'],
  ['IU/l', 'U/L'],
  ['[IU]/L', 'U/L'],
  ['[IU]/l', 'U/L'],
  ['units/L', 'U/L'],
  ['Units/L', 'U/L'],
  ['U/l', 'U/L'],
  ['µkat/L', 'ukat/L'], // U+00B5 micro sign
  ['μkat/L', 'ukat/L'], // U+03BC Greek mu
  ['µkat/l', 'ukat/L'],
  ['μkat/l', 'ukat/L'],
]);

const BILIRUBIN_UNIT_ALIASES: ReadonlyMap<string, string> = new Map([
  ['µmol/L', 'umol/L'],
  ['μmol/L', 'umol/L'],
  ['µmol/l', 'umol/L'],
  ['μmol/l', 'umol/L'],
]);

/** Valid UCUM, but never an enzyme unit: `u` is the unified atomic mass unit. */
const ENZYME_UNIT_REJECTS: ReadonlyMap<string, string> = new Map([
  ['u/L', "'u/L' is UCUM for atomic mass units per litre, not enzyme units (U/L)"],
  ['u/l', "'u/l' is UCUM for atomic mass units per litre, not enzyme units (U/L)"],
]);

const utils = ucum.UcumLhcUtils.getInstance();

// Unit strings repeat across thousands of results; parse each (string, kind) once.
const caches: Readonly<Record<UnitKind, Map<string, UnitResolution>>> = {
  enzyme: new Map(),
  bilirubin: new Map(),
};

function resolveUncached(unit: string, kind: UnitKind): UnitResolution {
  const target = CANONICAL[kind];
  if (kind === 'enzyme') {
    const rejected = ENZYME_UNIT_REJECTS.get(unit);
    if (rejected !== undefined) {
      return { ok: false, reason: rejected };
    }
  }
  const aliases = kind === 'enzyme' ? ENZYME_UNIT_ALIASES : BILIRUBIN_UNIT_ALIASES;
  const ucumCode = aliases.get(unit) ?? unit;
  const validation = utils.validateUnitString(ucumCode, false);
  if (validation.status !== 'valid') {
    return { ok: false, reason: `unit '${unit}' is not a recognised UCUM unit` };
  }
  // All accepted units are proportional (no offsets), so one conversion of 1 gives the factor.
  const converted = utils.convertUnitTo(ucumCode, 1, target, {
    molecularWeight: kind === 'bilirubin' ? BILIRUBIN_MOLAR_MASS : null,
  });
  if (converted.status !== 'succeeded' || converted.toVal === null || converted.toVal <= 0) {
    return { ok: false, reason: `unit '${unit}' cannot be converted to ${target}` };
  }
  return { ok: true, ucumCode, factor: converted.toVal };
}

/** How to convert a unit string to the canonical unit of `kind` (U/L or µmol/L), or why not. */
export function resolveUnit(unit: string, kind: UnitKind): UnitResolution {
  const cache = caches[kind];
  let resolution = cache.get(unit);
  if (resolution === undefined) {
    resolution = resolveUncached(unit.trim(), kind);
    cache.set(unit, resolution);
  }
  return resolution;
}

/**
 * Multiplies by a conversion factor and rounds to 1e-9, so that a round trip through another unit
 * (e.g. 120 U/L = 2 µkat/L) gives back exactly the same number and never flips a boundary like 5×ULN.
 */
export function applyFactor(value: number, factor: number): number {
  return factor === 1 ? value : Math.round(value * factor * 1e9) / 1e9;
}

export function canonicalUnitOf(kind: UnitKind): CanonicalUnit {
  return CANONICAL[kind];
}

/**
 * The unit string of a Quantity: the UCUM `code` when the system is UCUM (the machine-readable
 * field), else the human `unit`, else any `code`.
 */
export function readQuantityUnit(quantity: fhir4.Quantity): string | null {
  if (quantity.system === UCUM && quantity.code) {
    return quantity.code;
  }
  return quantity.unit ?? quantity.code ?? null;
}

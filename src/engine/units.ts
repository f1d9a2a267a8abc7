import { BILIRUBIN_MOLAR_MASS } from '../terminology/analytes.js';
import type { CanonicalUnit } from '../terminology/analytes.js';
import { UCUM } from '../terminology/systems.js';
import { convertUcum, validateUcum } from '../terminology/ucum.js';
import { ByteBoundedLru, stringBytes } from './byte-lru.js';

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

/**
 * UCUM expressions are built from printable 7-bit ASCII without spaces (UCUM §1 and its grammar);
 * anything else is refused before the parser sees it. Real enzyme and bilirubin units are short.
 */
const UCUM_CHARACTERS = /^[\x21-\x7e]+$/;
export const MAX_UNIT_LENGTH = 64;

/**
 * Unit strings repeat across thousands of results, so each (string, kind) is parsed once; they come
 * from outside, so the cache is bounded by bytes (an estimate per entry: key, reason, Map slot).
 */
export const UNIT_CACHE_MAX_BYTES = 256 * 1024;
const ENTRY_OVERHEAD_BYTES = 120;
const caches: Readonly<Record<UnitKind, ByteBoundedLru<UnitResolution>>> = {
  enzyme: new ByteBoundedLru(UNIT_CACHE_MAX_BYTES / 2, sizeOfResolution),
  bilirubin: new ByteBoundedLru(UNIT_CACHE_MAX_BYTES / 2, sizeOfResolution),
};

function sizeOfResolution(unit: string, resolution: UnitResolution): number {
  const text = resolution.ok ? resolution.ucumCode : resolution.reason;
  return ENTRY_OVERHEAD_BYTES + stringBytes(unit) + stringBytes(text);
}

/** Entries and estimated bytes held by the unit cache, for tests and diagnostics. */
export function unitCacheUsage(): { entries: number; bytes: number } {
  return {
    entries: caches.enzyme.size + caches.bilirubin.size,
    bytes: caches.enzyme.bytes + caches.bilirubin.bytes,
  };
}

function resolveUncached(unit: string, kind: UnitKind): UnitResolution {
  if (unit.length > MAX_UNIT_LENGTH) {
    return {
      ok: false,
      reason: `unit is not a recognised UCUM unit (longer than ${MAX_UNIT_LENGTH} characters)`,
    };
  }
  const target = CANONICAL[kind];
  if (kind === 'enzyme') {
    const rejected = ENZYME_UNIT_REJECTS.get(unit);
    if (rejected !== undefined) {
      return { ok: false, reason: rejected };
    }
  }
  const aliases = kind === 'enzyme' ? ENZYME_UNIT_ALIASES : BILIRUBIN_UNIT_ALIASES;
  const ucumCode = aliases.get(unit) ?? unit;
  if (!UCUM_CHARACTERS.test(ucumCode)) {
    return {
      ok: false,
      reason: 'unit is not a recognised UCUM unit (UCUM uses printable ASCII without spaces)',
    };
  }
  const validation = validateUcum(ucumCode);
  if (validation.status !== 'valid') {
    return { ok: false, reason: `unit '${unit}' is not a recognised UCUM unit` };
  }
  // All accepted units are proportional (no offsets), so one conversion of 1 gives the factor.
  const converted = convertUcum(
    ucumCode,
    1,
    target,
    kind === 'bilirubin' ? BILIRUBIN_MOLAR_MASS : null,
  );
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

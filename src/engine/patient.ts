import type { AdministrativeSex, Assessment } from './types.js';

const BIRTH_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

export function readSex(patient: fhir4.Patient | null): AdministrativeSex {
  const gender = patient?.gender;
  return gender === 'male' || gender === 'female' ? gender : 'unknown';
}

/**
 * Completed years at `now`. A partial birthDate (YYYY or YYYY-MM) is taken as the first day of that
 * year or month, which can overstate the age by less than the missing precision.
 */
export function computeAgeYears(birthDate: string | undefined, now: Date): number | null {
  const match = birthDate === undefined ? null : BIRTH_DATE.exec(birthDate);
  if (match === null) {
    return null;
  }
  const year = Number(match[1]);
  const month = match[2] === undefined ? 1 : Number(match[2]);
  const day = match[3] === undefined ? 1 : Number(match[3]);
  let age = now.getUTCFullYear() - year;
  const nowMonth = now.getUTCMonth() + 1;
  if (nowMonth < month || (nowMonth === month && now.getUTCDate() < day)) {
    age -= 1;
  }
  return age >= 0 ? age : null;
}

/**
 * Completed years at any instant, from a birth date parsed once (as computeAgeYears reads it): the
 * engine asks for every result, so each call is a binary search over the birthdays, not a parse.
 */
export function makeAgeAt(birthDate: string | undefined): (timeMs: number) => number | null {
  const match = birthDate === undefined ? null : BIRTH_DATE.exec(birthDate);
  if (match === null) {
    return () => null;
  }
  const year = Number(match[1]);
  const month = match[2] === undefined ? 0 : Number(match[2]) - 1;
  const day = match[3] === undefined ? 1 : Number(match[3]);
  // birthdays[k] = the k-th birthday at 00:00 UTC; 150 years covers any record.
  const birthdays = Array.from({ length: 151 }, (_, k) => Date.UTC(year + k, month, day));
  return (timeMs) => {
    // Before birth (or not a number): no age. A 29 February birthday falls on 1 March in other
    // years, as Date.UTC rolls it over, the same as computeAgeYears.
    if (!(timeMs >= birthdays[0])) {
      return null;
    }
    let lo = 0;
    let hi = birthdays.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (birthdays[mid] <= timeMs) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  };
}

export function readPatient(patient: fhir4.Patient | null, now: Date): Assessment['patient'] {
  return {
    id: patient?.id ?? null,
    sex: readSex(patient),
    ageYears: computeAgeYears(patient?.birthDate, now),
  };
}

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

export function readPatient(patient: fhir4.Patient | null, now: Date): Assessment['patient'] {
  return {
    id: patient?.id ?? null,
    sex: readSex(patient),
    ageYears: computeAgeYears(patient?.birthDate, now),
  };
}

// FHIR dateTime ⇄ epoch milliseconds without Date.parse / toISOString, which dominate the engine's
// cost on large inputs (about 2 µs per toISOString on Node 20). Civil-date arithmetic after
// H. Hinnant, "chrono-compatible low-level date algorithms" (days_from_civil / civil_from_days).

const DAY_MS = 86_400_000;
const ZERO = 48;

function readDigits(s: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) {
      return NaN;
    }
    n = n * 10 + d;
  }
  return n;
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Milliseconds since the epoch for a FHIR date or dateTime precise to the day or better
 * (`YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`), else NaN. A date alone is taken as 00:00 UTC.
 * A time without a zone breaks the FHIR rule; it is read as UTC rather than in the host's zone, so
 * that results never depend on where the engine runs. Fractions finer than milliseconds are truncated.
 */
export function parseFhirDateTime(value: string | undefined): number {
  // `typeof`, not `=== undefined`: the value comes from unvalidated JSON and may be null or a number.
  if (typeof value !== 'string' || value.length < 10 || value[4] !== '-' || value[7] !== '-') {
    return NaN;
  }
  const year = readDigits(value, 0, 4);
  const month = readDigits(value, 5, 2);
  const day = readDigits(value, 8, 2);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) {
    return NaN;
  }
  const dayMs = daysFromCivil(year, month, day) * DAY_MS;
  if (value.length === 10) {
    return dayMs;
  }
  if (value.length < 19 || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') {
    return NaN;
  }
  const hour = readDigits(value, 11, 2);
  const minute = readDigits(value, 14, 2);
  const second = readDigits(value, 17, 2);
  if (!(hour <= 23 && minute <= 59 && second <= 59)) {
    return NaN;
  }
  let i = 19;
  let millis = 0;
  if (value[i] === '.') {
    let scale = 100;
    i++;
    const fractionStart = i;
    while (i < value.length) {
      const d = value.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) {
        break;
      }
      millis += d * scale;
      scale /= 10;
      i++;
    }
    if (i === fractionStart) {
      return NaN;
    }
    millis = Math.floor(millis);
  }
  let offsetMinutes: number;
  if (i === value.length || (value[i] === 'Z' && i === value.length - 1)) {
    offsetMinutes = 0;
  } else if (
    (value[i] === '+' || value[i] === '-') &&
    i + 6 === value.length &&
    value[i + 3] === ':'
  ) {
    const hours = readDigits(value, i + 1, 2);
    const minutes = readDigits(value, i + 4, 2);
    if (!(hours <= 14 && minutes <= 59)) {
      return NaN;
    }
    offsetMinutes = (value[i] === '+' ? 1 : -1) * (hours * 60 + minutes);
  } else {
    return NaN;
  }
  return dayMs + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
}

const DASH = 45;
const COLON = 58;
const DOT = 46;
const LETTER_T = 84;
const LETTER_Z = 90;

/** `YYYY-MM-DDThh:mm:ss.sssZ`, the same text as Date.prototype.toISOString for years 0–9999. */
export function formatInstant(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const msOfDay = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (!(year >= 0 && year <= 9999)) {
    return new Date(ms).toISOString();
  }
  const hour = Math.floor(msOfDay / 3_600_000);
  const minute = Math.floor(msOfDay / 60_000) % 60;
  const second = Math.floor(msOfDay / 1000) % 60;
  const millis = msOfDay % 1000;
  // One flat string from character codes: a template literal builds a rope of a dozen pieces first,
  // and this runs for every result of every call.
  return String.fromCharCode(
    ZERO + Math.floor(year / 1000),
    ZERO + (Math.floor(year / 100) % 10),
    ZERO + (Math.floor(year / 10) % 10),
    ZERO + (year % 10),
    DASH,
    ZERO + Math.floor(month / 10),
    ZERO + (month % 10),
    DASH,
    ZERO + Math.floor(day / 10),
    ZERO + (day % 10),
    LETTER_T,
    ZERO + Math.floor(hour / 10),
    ZERO + (hour % 10),
    COLON,
    ZERO + Math.floor(minute / 10),
    ZERO + (minute % 10),
    COLON,
    ZERO + Math.floor(second / 10),
    ZERO + (second % 10),
    DOT,
    ZERO + Math.floor(millis / 100),
    ZERO + (Math.floor(millis / 10) % 10),
    ZERO + (millis % 10),
    LETTER_Z,
  );
}

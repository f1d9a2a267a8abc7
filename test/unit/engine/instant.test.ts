import fc from 'fast-check';
import { formatInstant, parseFhirDateTime } from '../../../src/engine/instant.js';

describe('FHIR dateTime parsing and instant formatting', () => {
  it('When any instant between 1900 and 2200 is formatted, the text equals toISOString and parses back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000, max: 7_258_118_400_000 }), (ms) => {
        const text = formatInstant(ms);
        expect(text).toBe(new Date(ms).toISOString());
        expect(parseFhirDateTime(text)).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['the first instant of year 0', -62_167_219_200_000],
    ['the last millisecond of year 9999', Date.UTC(9999, 11, 31, 23, 59, 59, 999)],
    ['a year before 0', Date.UTC(-1, 5, 1)],
    ['a year after 9999', Date.UTC(10_000, 0, 1)],
  ])('When %s is formatted, the text equals toISOString', (_case, ms) => {
    expect(formatInstant(ms)).toBe(new Date(ms).toISOString());
  });

  it.each([
    ['2026-05-01', Date.UTC(2026, 4, 1)],
    ['2026-05-01T10:15:30Z', Date.UTC(2026, 4, 1, 10, 15, 30)],
    ['2026-05-01T10:15:30.5Z', Date.UTC(2026, 4, 1, 10, 15, 30, 500)],
    ['2026-05-01T10:15:30.123456+02:00', Date.UTC(2026, 4, 1, 8, 15, 30, 123)],
    ['2026-05-01T01:00:00-05:30', Date.UTC(2026, 4, 1, 6, 30, 0)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2026-05-01T10:15:30', Date.UTC(2026, 4, 1, 10, 15, 30)],
  ])('When %s is read, it is that instant', (text, expected) => {
    expect(parseFhirDateTime(text)).toBe(expected);
  });

  it.each([
    '2026',
    '2026-05',
    '2026-13-01',
    '2025-02-29',
    '2026-05-01T10:15',
    '2026-05-01T25:00:00Z',
    '2026-05-01T10:15:30+0200',
    '2026-05-01T10:15:30.Z',
    '2026-05-01 10:15:30Z',
    'yesterday!',
  ])('When %s is read, it is not a usable time', (text) => {
    expect(parseFhirDateTime(text)).toBeNaN();
  });
});

import { PAIRING_TOLERANCE_MS, pairPoints } from '../../../src/engine/pairing.js';
import { classifyRRatio } from '../../../src/engine/r-ratio.js';
import { classifySeverity, isAtLeast2xUln } from '../../../src/engine/severity.js';
import type { LabPoint } from '../../../src/engine/types.js';

describe('R ratio classes', () => {
  it.each([
    [0.5, 'cholestatic'],
    [2, 'cholestatic'],
    [2.0001, 'mixed'],
    [4.9999, 'mixed'],
    [5, 'hepatocellular'],
    [12, 'hepatocellular'],
  ] as const)('When R is %s, the pattern is %s', (r, expected) => {
    expect(classifyRRatio(r)).toBe(expected);
  });
});

describe('ALP severity tiers', () => {
  it.each([
    [1.2, 'below-5x'],
    [4.999, 'below-5x'],
    [5, '5-10x'],
    [10, '5-10x'],
    [10.001, 'above-10x'],
  ] as const)('When ALP is %s×ULN, the tier is %s', (x, tier) => {
    expect(classifySeverity(x)).toBe(tier);
  });

  it('When ALP is exactly 2×ULN, it counts as at least 2×ULN', () => {
    expect(isAtLeast2xUln(2)).toBe(true);
    expect(isAtLeast2xUln(1.99)).toBe(false);
  });
});

describe('pairing results drawn together', () => {
  const base = Date.parse('2026-05-01T08:00:00Z');
  const at = (id: string, offsetMs: number, censored?: LabPoint['censored']): LabPoint => ({
    observationId: id,
    loinc: '1742-6',
    time: new Date(base + offsetMs).toISOString(),
    timeMs: base + offsetMs,
    value: 50,
    unit: 'U/L',
    uln: 25,
    ulnSource: 'reference-range',
    xUln: 2,
    ...(censored === undefined ? {} : { censored }),
  });

  it('When partners are within 24 h the nearest is chosen; beyond 24 h there is no pair', () => {
    const pairs = pairPoints(
      [at('a1', 0), at('a2', 10 * PAIRING_TOLERANCE_MS)],
      [
        at('b1', -3_600_000),
        at('b2', 2 * 3_600_000),
        at('b3', 10 * PAIRING_TOLERANCE_MS + PAIRING_TOLERANCE_MS + 1),
      ],
    );
    expect(pairs.map((p) => [p.a.observationId, p.b.observationId])).toEqual([['a1', 'b1']]);
  });

  it('When a partner is censored, it is not paired', () => {
    expect(pairPoints([at('a1', 0)], [at('b1', 0, '<')])).toEqual([]);
  });
});

import type { PatternClass, RRatio } from './types.js';
import type { PointPair } from './pairing.js';

/**
 * R = (ALT/ULN) / (ALP/ULN). Boundaries as the clinical reference writes them (§7, [S21][S25]):
 * R ≤ 2 cholestatic, 2 < R < 5 mixed, R ≥ 5 hepatocellular; so exactly 2 is cholestatic and exactly 5
 * hepatocellular.
 */
export function classifyRRatio(r: number): PatternClass {
  if (r <= 2) {
    return 'cholestatic';
  }
  return r >= 5 ? 'hepatocellular' : 'mixed';
}

/** R for a pair whose `a` is ALT and `b` is ALP. */
export function computeRRatio(pair: PointPair): RRatio {
  const value = pair.a.xUln / pair.b.xUln;
  return {
    value,
    patternClass: classifyRRatio(value),
    time: pair.time,
    altObservationId: pair.a.observationId,
    alpObservationId: pair.b.observationId,
  };
}

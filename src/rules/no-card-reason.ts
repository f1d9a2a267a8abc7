import type { NoCardReason } from '../cds/service.js';
import type { Assessment } from '../engine/types.js';
import { ANALYTES } from '../terminology/analytes.js';

/**
 * Why the rules gave no card for this assessment, in the order the cholestatic-shift rule asks its
 * questions: is there ALP, does it have a trend, is the rise beyond biological variation, do the
 * aminotransferases fall, is ALP above its ULN. `not-indicated` covers any other rule that declined.
 */
export function explainNoCard(assessment: Assessment): NoCardReason {
  const { series, findings } = assessment;
  const alp = series.ALP;
  if (alp.points.length === 0) {
    return 'no-data';
  }
  switch (alp.trend.direction) {
    case 'insufficient':
      return 'too-few-points';
    case 'falling':
      return 'alp-falling';
    case 'stable':
      // Within the lab's own imprecision it has not moved; beyond it but inside the reference
      // change value it moved no more than biological variation explains.
      return Math.abs(alp.trend.changePct ?? 0) <= ANALYTES.ALP.biologicalVariation.cvaPct
        ? 'stable'
        : 'noise';
    case 'rising':
      break;
  }
  if (!findings.divergence.present) {
    return 'aminotransferases-not-falling';
  }
  if (findings.severity === null || findings.severity.alpXUln <= 1) {
    return 'within-uln';
  }
  return 'not-indicated';
}

import type { OrderWarningContent } from '../cards/order-content.js';
import type { Assessment, LabPoint } from '../engine/types.js';

/** Which parts of the cholestatic picture the liver tests show. */
export type CholestaticSign = 'alp-rising' | 'alp-at-least' | 'r-pattern' | 'cholestatic-shift';

/** Why the warning is raised to critical. */
export type CriticalSign = 'alp-above' | 'direct-bilirubin-raised';

export interface OrderWarningJudgement {
  indicator: 'warning' | 'critical';
  signs: CholestaticSign[];
  criticalSigns: CriticalSign[];
  /** The latest ALP, above its ULN (the precondition of any warning). */
  latestAlp: LabPoint;
}

/**
 * Whether the liver tests make a cholestatic drug a concern right now (C4, W8): the latest ALP is
 * raised, and ALP rises beyond its RCV (P3), stands at or above the X1/C5 multiple, gives a
 * cholestatic or mixed R (P4), or shows the cholestatic shift. Null means no warning: normal or
 * stable tests, no ALP at all, or a normal GGT that points away from the liver (W1). Thresholds come from the reviewed content, never from here.
 */
export function judgeLiverTestsForOrder(
  assessment: Assessment,
  rules: Pick<OrderWarningContent, 'criteria' | 'critical'>,
): OrderWarningJudgement | null {
  const { criteria, critical } = rules;
  const latestAlp = assessment.series.ALP.latest;
  if (latestAlp === null || !isAbove(latestAlp, criteria.liverTestsRaisedAboveXUln)) {
    return null;
  }
  const { findings } = assessment;
  if (criteria.normalGgtMeansNonHepatic && findings.ggt.status === 'normal') {
    return null;
  }
  const signs: CholestaticSign[] = [];
  if (criteria.alpRisingSignificantly && assessment.series.ALP.trend.direction === 'rising') {
    signs.push('alp-rising');
  }
  if (isAtLeast(latestAlp, criteria.alpAtLeastXUln)) {
    signs.push('alp-at-least');
  }
  const pattern = findings.rRatio.last?.patternClass;
  if (pattern !== undefined && criteria.rPatterns.includes(pattern)) {
    signs.push('r-pattern');
  }
  if (criteria.cholestaticShift && findings.divergence.present) {
    signs.push('cholestatic-shift');
  }
  if (signs.length === 0) {
    return null;
  }
  const criticalSigns: CriticalSign[] = [];
  if (isAbove(latestAlp, critical.alpAboveXUln)) {
    criticalSigns.push('alp-above');
  }
  const direct = findings.bilirubin.latestDirect;
  if (critical.directBilirubinRaised && direct !== null && isAbove(direct, 1)) {
    criticalSigns.push('direct-bilirubin-raised');
  }
  return {
    indicator: criticalSigns.length > 0 ? 'critical' : 'warning',
    signs,
    criticalSigns,
    latestAlp,
  };
}

/** A `<` result lies below its figure, so it never counts as above a threshold. */
function isAbove(point: LabPoint, xUln: number): boolean {
  return point.xUln > xUln && point.censored !== '<' && point.censored !== '<=';
}

function isAtLeast(point: LabPoint, xUln: number): boolean {
  return point.xUln >= xUln && point.censored !== '<' && point.censored !== '<=';
}

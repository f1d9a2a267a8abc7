import type { SeverityTier } from './types.js';

/**
 * ALP tiers from the source document (S1–S3): below 5×ULN; 5–10×ULN inclusive at both ends; above
 * 10×ULN. "Above 10×" is read strictly, so exactly 5× and exactly 10× both fall in the 5–10× tier.
 */
export function classifySeverity(alpXUln: number): SeverityTier {
  if (alpXUln < 5) {
    return 'below-5x';
  }
  return alpXUln > 10 ? 'above-10x' : '5-10x';
}

/** "ALP ≥ 2×ULN" (pitfall X1, infiltrative disease C5). */
export function isAtLeast2xUln(xUln: number): boolean {
  return xUln >= 2;
}

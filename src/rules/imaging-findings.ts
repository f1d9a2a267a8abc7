import type { ContextRules, ImagingFindingId } from '../cards/content-schema.js';
import { ICD10_CM } from '../terminology/systems.js';

export interface ImagingFinding {
  id: ImagingFindingId;
  label: string;
  /** The clause of the conclusion, or the display of the code, the finding was read from. */
  evidence: string;
}

type ImagingRules = ContextRules['imaging'];

interface CompiledRules {
  findings: Array<
    { id: ImagingFindingId; label: string; patterns: RegExp[] } & Pick<
      ImagingRules['findings'][number],
      'codes'
    >
  >;
  negation: RegExp[];
  negationAfter: RegExp[];
  uncertainty: RegExp[];
  windowWords: number;
}

const compiledCache = new WeakMap<ImagingRules, CompiledRules>();

function compile(rules: ImagingRules): CompiledRules {
  let compiled = compiledCache.get(rules);
  if (compiled === undefined) {
    const regex = (source: string) => new RegExp(source, 'iu');
    compiled = {
      findings: rules.findings.map((finding) => ({
        id: finding.id,
        label: finding.label,
        codes: finding.codes,
        patterns: finding.textPatterns.map((source) => new RegExp(source, 'giu')),
      })),
      negation: rules.negationCues.map(regex),
      negationAfter: rules.negationAfterCues.map(regex),
      uncertainty: rules.uncertaintyCues.map(regex),
      windowWords: rules.negationWindowWords,
    };
    compiledCache.set(rules, compiled);
  }
  return compiled;
}

/**
 * What an imaging report affirms about the bile ducts, from its coded conclusions and its conclusion
 * text. A clause that negates the finding ("no biliary dilatation", "CBD not dilated", "stone
 * removed") or hedges it ("cannot be excluded") does not count: only an affirmed finding means
 * obstruction is found (X3).
 */
export function readImagingFindings(
  report: Pick<fhir4.DiagnosticReport, 'conclusion' | 'conclusionCode'>,
  rules: ImagingRules,
): ImagingFinding[] {
  const compiled = compile(rules);
  const found = new Map<ImagingFindingId, ImagingFinding>();
  const codings = (Array.isArray(report.conclusionCode) ? report.conclusionCode : []).flatMap(
    (concept) => (Array.isArray(concept?.coding) ? concept.coding : []),
  );
  for (const finding of compiled.findings) {
    const coding = codings.find((candidate) =>
      finding.codes.some((known) => codeMatches(candidate, known)),
    );
    if (coding !== undefined && !found.has(finding.id)) {
      found.set(finding.id, {
        id: finding.id,
        label: finding.label,
        evidence: coding.display ?? coding.code ?? finding.label,
      });
    }
  }
  const conclusion = typeof report.conclusion === 'string' ? report.conclusion : '';
  for (const clause of splitClauses(conclusion)) {
    if (compiled.uncertainty.some((cue) => cue.test(clause))) {
      continue;
    }
    for (const finding of compiled.findings) {
      if (found.has(finding.id)) {
        continue;
      }
      if (finding.patterns.some((pattern) => hasAffirmedMatch(clause, pattern, compiled))) {
        found.set(finding.id, { id: finding.id, label: finding.label, evidence: clause });
      }
    }
  }
  return [...found.values()];
}

function codeMatches(coding: fhir4.Coding, known: { system: string; code: string }): boolean {
  if (typeof coding.code !== 'string' || coding.system !== known.system) {
    return false;
  }
  // ICD-10-CM by prefix without dots (K80.5 covers K80.50), as in the condition lists.
  const strip = (value: string) => value.replace(/\./g, '').trim().toUpperCase();
  return known.system === ICD10_CM
    ? strip(coding.code).startsWith(strip(known.code))
    : coding.code === known.code;
}

/** Sentences and "but/however" halves: a negation does not reach past them (as in NegEx). */
function splitClauses(text: string): string[] {
  return text
    .split(/(?<!\d)\.(?!\d)|[;\n]|\b(?:but|however|although|though)\b/iu)
    .map((clause) => clause.trim())
    .filter((clause) => clause !== '');
}

function hasAffirmedMatch(clause: string, pattern: RegExp, rules: CompiledRules): boolean {
  pattern.lastIndex = 0;
  for (const match of clause.matchAll(pattern)) {
    const start = match.index;
    const end = start + match[0].length;
    const before = clause.slice(0, start).split(/\s+/u).filter(Boolean);
    const window = `${before.slice(-rules.windowWords).join(' ')} ${match[0]}`;
    const after = clause.slice(end);
    const negated =
      rules.negation.some((cue) => cue.test(window)) ||
      rules.negationAfter.some((cue) => cue.test(after));
    if (!negated) {
      return true;
    }
  }
  return false;
}

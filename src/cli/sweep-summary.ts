import type { Card } from '../cds/schemas.js';
import type { CardContent } from '../cards/load-content.js';
import { isRecord } from '../fhir/guards.js';

/** What `summary.json` holds; shard summaries add up to the single run's. */
export interface SweepSummary {
  tool: 'hepatic-trends sweep';
  now: string;
  lookbackDays: number;
  /** Shards this summary covers, `index/count` (all of them once merged). */
  shards: { count: number; indexes: number[] };
  inputFiles: number;
  linesRead: number;
  resourcesByType: Record<string, number>;
  patientsRead: number;
  patientsFlagged: number;
  /** Patients whose answer could not be computed (the first few are listed under `failures`). */
  patientsFailed: number;
  cards: {
    total: number;
    byIndicator: Record<string, number>;
    byKind: Record<string, Record<string, number>>;
  };
  cardsPer1000Patients: number;
  flaggedPer1000Patients: number;
  /** Records left out of the analysis, by reason. */
  excluded: Record<string, number>;
  failures: string[];
}

export const MAX_LISTED_FAILURES = 20;

export function emptySummary(
  now: Date,
  lookbackDays: number,
  shard: { index: number; count: number },
): SweepSummary {
  return {
    tool: 'hepatic-trends sweep',
    now: now.toISOString(),
    lookbackDays,
    shards: { count: shard.count, indexes: [shard.index] },
    inputFiles: 0,
    linesRead: 0,
    resourcesByType: {},
    patientsRead: 0,
    patientsFlagged: 0,
    patientsFailed: 0,
    cards: { total: 0, byIndicator: {}, byKind: {} },
    cardsPer1000Patients: 0,
    flaggedPer1000Patients: 0,
    excluded: {},
    failures: [],
  };
}

export function addCount(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>) {
  for (const [key, value] of Object.entries(from)) {
    addCount(into, key, value);
  }
}

/** Adds `from` into `into` (counts only; the rates are recomputed by `finishSummary`). */
export function mergeSummaryInto(into: SweepSummary, from: SweepSummary): void {
  into.inputFiles += from.inputFiles;
  into.linesRead += from.linesRead;
  addCounts(into.resourcesByType, from.resourcesByType);
  into.patientsRead += from.patientsRead;
  into.patientsFlagged += from.patientsFlagged;
  into.patientsFailed += from.patientsFailed;
  into.cards.total += from.cards.total;
  addCounts(into.cards.byIndicator, from.cards.byIndicator);
  for (const [kind, byIndicator] of Object.entries(from.cards.byKind)) {
    addCounts((into.cards.byKind[kind] ??= {}), byIndicator);
  }
  addCounts(into.excluded, from.excluded);
  into.failures = [...into.failures, ...from.failures].slice(0, MAX_LISTED_FAILURES);
}

export function finishSummary(summary: SweepSummary): SweepSummary {
  const per1000 = (count: number) =>
    summary.patientsRead === 0 ? 0 : Math.round((count / summary.patientsRead) * 100_000) / 100;
  summary.cardsPer1000Patients = per1000(summary.cards.total);
  summary.flaggedPer1000Patients = per1000(summary.patientsFlagged);
  summary.shards.indexes.sort((a, b) => a - b);
  return summary;
}

/**
 * Names a card's kind from the reviewed content: every content file with summary templates is a
 * kind, and a card belongs to the kind whose template (slots as wildcards) its summary matches.
 */
export function createKindClassifier(
  content: CardContent,
): (card: Pick<Card, 'summary'>) => string {
  const patterns: { kind: string; pattern: RegExp }[] = [];
  for (const [key, value] of Object.entries(content)) {
    const summaries = isRecord(value) && isRecord(value.summary) ? value.summary : undefined;
    for (const template of Object.values(summaries ?? {})) {
      if (typeof template === 'string') {
        patterns.push({ kind: kebab(key), pattern: templatePattern(template) });
      }
    }
  }
  return (card) => patterns.find(({ pattern }) => pattern.test(card.summary))?.kind ?? 'other';
}

function templatePattern(template: string): RegExp {
  const literal = template.split(/\{\{[^{}]*\}\}/).map((part) =>
    part
      .trim()
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\s+/g, '\\s*'),
  );
  // Summaries are cut at the CDS Hooks limit, so only a prefix of the template must match.
  return new RegExp(`^${literal.join('[\\s\\S]*?')}`);
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

import { createHmac } from 'node:crypto';

/** What a service says about each card it issued, beyond the card itself. */
export interface IssuedCardFacts {
  uuid: string;
  /** Card kind from the reviewed content, e.g. `cholestatic-shift`. */
  kind: string;
  /** Stable digest of the finding the card was issued for: equal findings, equal fingerprints. */
  fingerprint: string;
  /** Severity tier of the finding (engine `SeverityTier`). */
  tier: string;
}

/** One row of the card issuance log. The patient id is never kept, only its keyed hash. */
export interface CardIssue extends IssuedCardFacts {
  serviceId: string;
  patientHash: string;
  issuedAt: Date;
}

/**
 * Every card the services issued, so feedback (which carries only the card uuid) can be traced to
 * the patient, kind and finding it was about, and the summary can count cards. In memory by
 * default, PostgreSQL when `DATABASE_URL` is set.
 */
export interface CardIssuanceLog {
  /** Keyed hash of a patient id, the form in which `record` stores and lookups expect it. */
  patientHash(patientId: string): string;
  record(issues: readonly CardIssue[]): Promise<void>;
  /** The issue behind a card uuid, or undefined when unknown (or evicted from a bounded log). */
  find(cardUuid: string): Promise<CardIssue | undefined>;
  /** Issues for one patient of one service, newest first. */
  listForPatient(serviceId: string, patientHash: string): Promise<CardIssue[]>;
  /** Cards issued per service id. */
  countByService(): Promise<Record<string, number>>;
}

/** HMAC-SHA256 of the patient id under the deployment's key, hex: not reversible without the key. */
export function createPatientHasher(key: Buffer): (patientId: string) => string {
  if (key.length < 16) {
    throw new RangeError('the patient id hash key must be at least 16 bytes');
  }
  return (patientId) => createHmac('sha256', key).update(patientId, 'utf8').digest('hex');
}

export interface InMemoryIssuanceLogOptions {
  key: Buffer;
  /** Most issues kept; the oldest go first (default 50 000, about 15 MB). */
  maxEntries?: number;
}

const DEFAULT_MAX_ISSUES = 50_000;

/** Bounded in-memory log: a Map keeps insertion order, so the first key is always the oldest. */
export class InMemoryIssuanceLog implements CardIssuanceLog {
  private readonly byUuid = new Map<string, CardIssue>();
  // Counts survive eviction: the summary counts every card this process issued.
  private readonly counts = new Map<string, number>();
  private readonly maxEntries: number;
  readonly patientHash: (patientId: string) => string;

  constructor(options: InMemoryIssuanceLogOptions) {
    this.patientHash = createPatientHasher(options.key);
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ISSUES;
  }

  get size(): number {
    return this.byUuid.size;
  }

  async record(issues: readonly CardIssue[]): Promise<void> {
    for (const issue of issues) {
      if (this.byUuid.has(issue.uuid)) {
        continue;
      }
      this.byUuid.set(issue.uuid, { ...issue });
      this.counts.set(issue.serviceId, (this.counts.get(issue.serviceId) ?? 0) + 1);
    }
    while (this.byUuid.size > this.maxEntries) {
      const oldest = this.byUuid.keys().next();
      if (oldest.done === true) {
        break;
      }
      this.byUuid.delete(oldest.value);
    }
  }

  async find(cardUuid: string): Promise<CardIssue | undefined> {
    const issue = this.byUuid.get(cardUuid);
    return issue === undefined ? undefined : { ...issue };
  }

  async listForPatient(serviceId: string, patientHash: string): Promise<CardIssue[]> {
    const out: CardIssue[] = [];
    for (const issue of this.byUuid.values()) {
      if (issue.serviceId === serviceId && issue.patientHash === patientHash) {
        out.push({ ...issue });
      }
    }
    return out.reverse();
  }

  async countByService(): Promise<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { FeedbackItem } from '../cds/schemas.js';
import {
  reasonCodeOf,
  type FeedbackStore,
  type FeedbackTally,
  type StoredFeedback,
} from './feedback-store.js';
import { createPatientHasher, type CardIssuanceLog, type CardIssue } from './issuance-log.js';
import { MIGRATIONS } from './migrations.js';
import { StoreUnavailableError } from './store-errors.js';

// Any fixed 64-bit number shared by every replica of this service: they queue on it while migrating.
const MIGRATION_LOCK_ID = 4_711_001_014;
const HASH_KEY_SETTING = 'patient_id_hash_key';
// The raw feedback route returns at most this many rows; a `since` narrows it.
const LIST_LIMIT = 100_000;

export interface PostgresStores {
  feedback: FeedbackStore;
  issuanceLog: CardIssuanceLog;
  /** Where it is, without credentials, and the schema version reached. */
  description: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `host:port/database` of a connection URL, never the user or password. */
export function describePostgres(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/**
 * Connects, applies pending migrations under an advisory lock, loads (or creates once) the patient
 * id hash key, and returns the PostgreSQL-backed stores. Throws one line when unreachable.
 */
export async function openPostgres(
  url: string,
  options: { logger: Logger; patientIdHashKey?: string | undefined },
): Promise<PostgresStores> {
  const where = describePostgres(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: 5000,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', (error) => {
    options.logger.warn({ err: error }, 'PostgreSQL connection lost');
  });
  let version: number;
  let key: Buffer;
  try {
    version = await migrate(pool);
    key =
      options.patientIdHashKey === undefined
        ? await loadOrCreateHashKey(pool)
        : Buffer.from(options.patientIdHashKey, 'utf8');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`PostgreSQL at ${where} cannot be used: ${reasonOf(error)}`, { cause: error });
  }

  const query = async <R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw new StoreUnavailableError('postgresql', `PostgreSQL query failed: ${reasonOf(error)}`, {
        cause: error,
      });
    }
  };

  const feedback: FeedbackStore = {
    async save(serviceId, items, receivedAt) {
      if (items.length === 0) {
        return;
      }
      const values: unknown[] = [];
      const rows = items.map((item: FeedbackItem, i) => {
        values.push(serviceId, receivedAt, item.card, item.outcome, reasonCodeOf(item), item);
        const p = i * 6;
        return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`;
      });
      await query(
        `INSERT INTO feedback (service_id, received_at, card_uuid, outcome, reason_code, item)
         VALUES ${rows.join(', ')}`,
        values,
      );
    },
    async list(serviceId, since) {
      const result = await query<{ service_id: string; received_at: Date; item: FeedbackItem }>(
        `SELECT service_id, received_at, item FROM feedback
         WHERE ($1::text IS NULL OR service_id = $1) AND ($2::timestamptz IS NULL OR received_at >= $2)
         ORDER BY id LIMIT ${LIST_LIMIT}`,
        [serviceId ?? null, since ?? null],
      );
      return result.rows.map((row): StoredFeedback => ({
        serviceId: row.service_id,
        receivedAt: row.received_at.toISOString(),
        item: row.item,
      }));
    },
    async tally() {
      const result = await query<{
        service_id: string;
        outcome: FeedbackItem['outcome'];
        reason_code: string | null;
        count: string;
      }>(
        `SELECT service_id, outcome,
                CASE WHEN outcome = 'overridden' THEN reason_code END AS reason_code,
                count(*) AS count
         FROM feedback GROUP BY 1, 2, 3`,
      );
      return result.rows.map((row): FeedbackTally => ({
        serviceId: row.service_id,
        outcome: row.outcome,
        reasonCode: row.reason_code,
        count: Number(row.count),
      }));
    },
  };

  const toIssue = (row: IssueRow): CardIssue => ({
    uuid: row.card_uuid,
    serviceId: row.service_id,
    patientHash: row.patient_hash,
    kind: row.card_kind,
    fingerprint: row.fingerprint,
    tier: row.severity_tier,
    issuedAt: row.issued_at,
  });

  const issuanceLog: CardIssuanceLog = {
    patientHash: createPatientHasher(key),
    async record(issues) {
      if (issues.length === 0) {
        return;
      }
      const values: unknown[] = [];
      const rows = issues.map((issue, i) => {
        values.push(
          issue.uuid,
          issue.serviceId,
          issue.patientHash,
          issue.kind,
          issue.fingerprint,
          issue.tier,
          issue.issuedAt,
        );
        const p = i * 7;
        return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7})`;
      });
      await query(
        `INSERT INTO card_issuance
           (card_uuid, service_id, patient_hash, card_kind, fingerprint, severity_tier, issued_at)
         VALUES ${rows.join(', ')} ON CONFLICT (card_uuid) DO NOTHING`,
        values,
      );
    },
    async find(cardUuid) {
      // The feedback schema accepts any GUID shape; anything else cannot be a card of ours.
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(cardUuid)) {
        return undefined;
      }
      const result = await query<IssueRow>('SELECT * FROM card_issuance WHERE card_uuid = $1', [
        cardUuid,
      ]);
      const row = result.rows[0];
      return row === undefined ? undefined : toIssue(row);
    },
    async listForPatient(serviceId, patientHash) {
      const result = await query<IssueRow>(
        `SELECT * FROM card_issuance WHERE service_id = $1 AND patient_hash = $2
         ORDER BY issued_at DESC LIMIT 1000`,
        [serviceId, patientHash],
      );
      return result.rows.map(toIssue);
    },
    async countByService() {
      const result = await query<{ service_id: string; count: string }>(
        'SELECT service_id, count(*) AS count FROM card_issuance GROUP BY service_id',
      );
      return Object.fromEntries(result.rows.map((row) => [row.service_id, Number(row.count)]));
    },
  };

  return {
    feedback,
    issuanceLog,
    description: `PostgreSQL (${where}, schema version ${version})`,
    ping: async () => {
      await query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

interface IssueRow {
  card_uuid: string;
  service_id: string;
  patient_hash: string;
  card_kind: string;
  fingerprint: string;
  severity_tier: string;
  issued_at: Date;
}

/**
 * Applies every migration newer than the recorded version, each in its own transaction. Replicas
 * that start together queue on a session advisory lock, so each migration runs exactly once.
 */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations',
      );
      const done = new Set(applied.rows.map((row) => row.version));
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) {
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${migration.version} (${migration.name}) failed`, {
            cause: error,
          });
        }
      }
      return Math.max(0, ...MIGRATIONS.map((m) => m.version));
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
}

/** The first replica to start stores a random key; every later one (and every restart) reads it. */
async function loadOrCreateHashKey(pool: pg.Pool): Promise<Buffer> {
  await pool.query(
    'INSERT INTO service_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
    [HASH_KEY_SETTING, randomBytes(32)],
  );
  const result = await pool.query<{ value: Buffer }>(
    'SELECT value FROM service_settings WHERE name = $1',
    [HASH_KEY_SETTING],
  );
  const value = result.rows[0]?.value;
  if (value === undefined) {
    throw new Error('the patient id hash key could not be stored');
  }
  return value;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    // AggregateError (one per address tried) carries its reasons in `errors`.
    const inner =
      error instanceof AggregateError && error.errors[0] instanceof Error
        ? error.errors[0].message
        : '';
    return (error.message || inner || error.name) + cause;
  }
  return String(error);
}

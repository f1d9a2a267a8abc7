/**
 * Versioned schema changes, applied in order at start-up (see `migrate` in postgres.ts). Kept in
 * TypeScript rather than .sql files so that the build output carries them with no copying step.
 * Never edit an applied migration: add the next version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'feedback, card issuance log and service settings',
    sql: `
      CREATE TABLE card_issuance (
        card_uuid uuid PRIMARY KEY,
        service_id text NOT NULL,
        patient_hash text NOT NULL,
        card_kind text NOT NULL,
        fingerprint text NOT NULL,
        severity_tier text NOT NULL,
        issued_at timestamptz NOT NULL
      );
      CREATE INDEX card_issuance_by_patient
        ON card_issuance (service_id, patient_hash, issued_at DESC);

      CREATE TABLE feedback (
        id bigserial PRIMARY KEY,
        service_id text NOT NULL,
        received_at timestamptz NOT NULL,
        card_uuid uuid NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
        reason_code text,
        item jsonb NOT NULL
      );
      CREATE INDEX feedback_by_received_at ON feedback (received_at);
      CREATE INDEX feedback_by_card ON feedback (card_uuid);

      CREATE TABLE service_settings (
        name text PRIMARY KEY,
        value bytea NOT NULL
      );
    `,
  },
];

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** A demo patient as listed in the banner, the README and the seed output. */
export interface DemoPatient {
  id: string;
  name: string;
  scenario: string;
  expectedCards: string;
}

export const DEMO_BUNDLE_FILE = 'demo/demo-bundle.json';
export const DEMO_PATIENTS_FILE = 'demo/demo-patients.json';
/** Medplum refuses transactions with more than 50 updates; HAPI has no such limit, but one size fits both. */
export const MAX_ENTRIES_PER_TRANSACTION = 50;

const BundleEntrySchema = z.object({
  fullUrl: z.string().optional(),
  resource: z.looseObject({ resourceType: z.string(), id: z.string() }),
  request: z.object({ method: z.literal('PUT'), url: z.string() }),
});
const TransactionBundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('transaction'),
  entry: z.array(BundleEntrySchema).min(1),
});
const DemoManifestSchema = z.array(
  z.object({ id: z.string(), scenario: z.string(), expectedCards: z.string() }),
);

export type DemoBundleEntry = z.infer<typeof BundleEntrySchema>;
export type DemoTransaction = z.infer<typeof TransactionBundleSchema>;

/**
 * Date placeholders in the stored bundle, resolved against "now" at load time so the demo never goes
 * stale: `{{dateTime:-120d}}` → an instant 120 days ago (UTC, to the minute), `{{date:-68y-40d}}` → the
 * calendar date 68 years and 40 days ago. Units: y, d, h.
 */
const PLACEHOLDER = /^\{\{(date|dateTime):((?:-\d+[ydh])+)\}\}$/;

/** Reads the demo transaction bundle from the repository and dates it relative to `now`. */
export function loadDemoBundle(now: Date): DemoTransaction {
  const raw: unknown = JSON.parse(readFileSync(locateRepoFile(DEMO_BUNDLE_FILE), 'utf8'));
  const bundle = TransactionBundleSchema.parse(raw);
  return TransactionBundleSchema.parse(resolveDatePlaceholders(bundle, now));
}

/** The demo patients with the name each has in the bundle and the cards each should produce. */
export function listDemoPatients(bundle: DemoTransaction): DemoPatient[] {
  const raw: unknown = JSON.parse(readFileSync(locateRepoFile(DEMO_PATIENTS_FILE), 'utf8'));
  return DemoManifestSchema.parse(raw).map((entry) => {
    const patient = bundle.entry.find(
      (e) => e.resource.resourceType === 'Patient' && e.resource.id === entry.id,
    );
    if (!patient) {
      throw new Error(`${DEMO_PATIENTS_FILE}: Patient/${entry.id} is not in ${DEMO_BUNDLE_FILE}`);
    }
    return { ...entry, name: formatPatientName(patient.resource) };
  });
}

/**
 * Splits a transaction into chunks of at most `maxEntries`, keeping each patient (a Patient entry and the
 * entries after it) in one chunk where it fits. Chunks are meant to be sent in order, so a server that checks
 * references (HAPI) has every Patient before the resources that point at it.
 */
export function splitTransaction(
  bundle: DemoTransaction,
  maxEntries = MAX_ENTRIES_PER_TRANSACTION,
): DemoTransaction[] {
  const groups: DemoBundleEntry[][] = [];
  for (const entry of bundle.entry) {
    const last = groups.at(-1);
    if (!last || entry.resource.resourceType === 'Patient' || last.length >= maxEntries) {
      groups.push([entry]);
    } else {
      last.push(entry);
    }
  }
  const chunks: DemoBundleEntry[][] = [];
  for (const group of groups) {
    const last = chunks.at(-1);
    if (last && last.length + group.length <= maxEntries) {
      last.push(...group);
    } else {
      chunks.push([...group]);
    }
  }
  return chunks.map((entry) => ({ resourceType: 'Bundle', type: 'transaction', entry }));
}

export function resolveDatePlaceholders(value: unknown, now: Date): unknown {
  if (typeof value === 'string') {
    const match = PLACEHOLDER.exec(value);
    return match ? formatOffset(now, match[1] === 'date', match[2] ?? '') : value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => resolveDatePlaceholders(v, now));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveDatePlaceholders(v, now)]),
    );
  }
  return value;
}

function formatOffset(now: Date, dateOnly: boolean, offsets: string): string {
  const date = new Date(now.getTime());
  date.setUTCSeconds(0, 0);
  for (const [, amount, unit] of offsets.matchAll(/-(\d+)([ydh])/g)) {
    const n = Number(amount);
    if (unit === 'y') {
      date.setUTCFullYear(date.getUTCFullYear() - n);
    } else if (unit === 'd') {
      date.setUTCDate(date.getUTCDate() - n);
    } else {
      date.setUTCHours(date.getUTCHours() - n);
    }
  }
  const iso = date.toISOString();
  return dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 19)}Z`;
}

function formatPatientName(patient: Record<string, unknown>): string {
  const names = z
    .array(z.object({ given: z.array(z.string()).optional(), family: z.string().optional() }))
    .safeParse(patient.name);
  const first = names.success ? names.data[0] : undefined;
  return first ? [...(first.given ?? []), first.family ?? ''].join(' ').trim() : String(patient.id);
}

/**
 * Finds a file shipped with the repository from both `src/` (tsx, tests) and `dist/src/` (build, image),
 * which sit at different depths.
 */
export function locateRepoFile(relativePath: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`${relativePath} not found above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

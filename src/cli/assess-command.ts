import { readFile } from 'node:fs/promises';
import type { Card, CdsResponse } from '../cds/schemas.js';
import type { CdsService } from '../cds/service.js';
import { isRecord } from '../fhir/guards.js';
import { answerPatientView, type OfflineCallOptions } from './answer-patient.js';
import { InputError, parseJsonAt, type CliIo } from './cli-error.js';
import { patientIdOf } from './offline-prefetch.js';

export interface AssessOptions extends OfflineCallOptions {
  file: string;
  format: 'json' | 'text';
  patientId?: string;
}

const BUNDLE_TYPES = ['searchset', 'collection', 'transaction', 'batch', 'document'];

/** `hepatic-trends assess`: one Bundle in, the service's hook response (or a summary of it) out. */
export async function runAssess(service: CdsService, options: AssessOptions, io: CliIo) {
  const name = options.file === '-' ? '<stdin>' : options.file;
  const text = options.file === '-' ? await readAll(io.stdin) : await readInput(options.file);
  const bundle = parseJsonAt(text, name);
  const resources = resourcesOfBundle(bundle, name);
  const patientId = choosePatient(resources, name, options.patientId);
  // The searches keep the patient's own resources; others (a Medication) serve `_include`.
  const response = await answerPatientView(service, patientId, resources, options);
  io.stdout.write(
    options.format === 'json'
      ? `${JSON.stringify(response, null, 2)}\n`
      : formatText(patientId, response, options.now),
  );
}

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'unreadable';
    throw new InputError(`${file}: cannot read the file (${code})`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The entries' resources, with `urn:uuid:` references to a Patient entry rewritten to `Patient/id`. */
function resourcesOfBundle(value: unknown, name: string): Record<string, unknown>[] {
  if (!isRecord(value) || value.resourceType !== 'Bundle') {
    const type =
      isRecord(value) && typeof value.resourceType === 'string' ? value.resourceType : '';
    throw new InputError(
      `${name}:1: expected a FHIR Bundle holding one patient's record${type === '' ? '' : `, got a ${type}`}`,
    );
  }
  if (typeof value.type !== 'string' || !BUNDLE_TYPES.includes(value.type)) {
    throw new InputError(`${name}:1: Bundle.type must be one of ${BUNDLE_TYPES.join(', ')}`);
  }
  const entries = Array.isArray(value.entry) ? value.entry : [];
  const patientsByFullUrl = new Map<string, string>();
  for (const entry of entries) {
    if (isRecord(entry) && isRecord(entry.resource) && typeof entry.fullUrl === 'string') {
      const id = entry.resource.resourceType === 'Patient' ? entry.resource.id : undefined;
      if (typeof id === 'string') {
        patientsByFullUrl.set(entry.fullUrl, `Patient/${id}`);
      }
    }
  }
  return entries.flatMap((entry: unknown) => {
    const resource = isRecord(entry) && isRecord(entry.resource) ? entry.resource : undefined;
    if (resource === undefined || typeof resource.resourceType !== 'string') {
      return [];
    }
    return [withPatientReferences(resource, patientsByFullUrl)];
  });
}

function withPatientReferences(
  resource: Record<string, unknown>,
  patientsByFullUrl: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const copy = { ...resource };
  for (const field of ['subject', 'patient']) {
    const reference = copy[field];
    if (isRecord(reference) && typeof reference.reference === 'string') {
      const target = patientsByFullUrl.get(reference.reference);
      if (target !== undefined) {
        copy[field] = { ...reference, reference: target };
      }
    }
  }
  return copy;
}

function choosePatient(
  resources: readonly Record<string, unknown>[],
  name: string,
  wanted: string | undefined,
): string {
  const fromPatients = resources.filter((r) => r.resourceType === 'Patient').map(patientIdOf);
  const ids = [
    ...new Set((fromPatients.length > 0 ? fromPatients : resources.map(patientIdOf)).flat()),
  ].filter((id): id is string => id !== undefined);
  if (wanted !== undefined) {
    if (!resources.some((r) => patientIdOf(r) === wanted)) {
      throw new InputError(`${name}: nothing in the Bundle is about Patient/${wanted}`);
    }
    return wanted;
  }
  if (ids.length === 1 && ids[0] !== undefined) {
    return ids[0];
  }
  throw new InputError(
    ids.length === 0
      ? `${name}: the Bundle holds no Patient and nothing that refers to one`
      : `${name}: the Bundle holds ${ids.length} patients (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}); choose one with --patient`,
  );
}

/** A readable summary: one block per card, in the order the service returned them. */
export function formatText(patientId: string, response: CdsResponse, now: Date): string {
  const header = `Patient/${patientId}, as of ${now.toISOString()}: ${plural(response.cards.length, 'card')}`;
  if (response.cards.length === 0) {
    return `${header}. The service would show nothing.\n`;
  }
  return `${header}\n${response.cards.map(formatCard).join('')}`;
}

function formatCard(card: Card, index: number): string {
  const lines = [
    '',
    `${index + 1}. [${card.indicator.toUpperCase()}] ${card.summary}`,
    `   Source: ${card.source.label}${card.source.url === undefined ? '' : ` <${card.source.url}>`}`,
  ];
  if (card.detail !== undefined) {
    lines.push('', ...card.detail.split('\n').map((line) => `   ${line}`.trimEnd()));
  }
  if (card.suggestions !== undefined && card.suggestions.length > 0) {
    lines.push('', '   Suggestions:', ...card.suggestions.map((s) => `   - ${s.label}`));
  }
  if (card.links !== undefined && card.links.length > 0) {
    lines.push('', '   Links:', ...card.links.map((link) => `   - ${link.label} <${link.url}>`));
  }
  return `${lines.join('\n')}\n`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

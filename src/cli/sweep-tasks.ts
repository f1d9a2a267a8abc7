import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CdsService } from '../cds/service.js';
import { isRecord } from '../fhir/guards.js';
import { isCdsError } from '../http/errors.js';
import { answerPatientView } from './answer-patient.js';
import { InputError } from './cli-error.js';
import { FHIR_R4_RESOURCE_TYPES } from './fhir-resource-types.js';
import { readLines, type InputFile } from './ndjson-input.js';
import { lookupAmong, patientIdOf } from './offline-prefetch.js';
import { hashPatientId, partitionOf } from './patient-hash.js';
import { addCount, MAX_LISTED_FAILURES } from './sweep-summary.js';

/*
 * The two passes of a sweep, each run in worker threads. Pass 1 streams one input file and appends
 * each line to the partition file of its patient (partitions are ranges of the patient-id hash);
 * pass 2 loads one partition, which holds every line of its patients, groups it by patient and asks
 * the service about each. Memory is bounded by the partition size, not by the export.
 */

export interface PartitionTask {
  task: 'partition';
  file: InputFile;
  fileIndex: number;
  tmpDir: string;
  partitions: number;
  shard: { index: number; count: number };
  /** Resource types the service's prefetch reads; other types are counted as excluded. */
  usedTypes: string[];
  /** Types read through `_include` (Medication): owned by no patient, kept for every partition. */
  sharedTypes: string[];
}

export interface PartitionResult {
  linesRead: number;
  resourcesByType: Record<string, number>;
  patients: number;
  excluded: Record<string, number>;
  /** Partition number → the file this task wrote for it. */
  written: Record<number, string>;
  sharedFile?: string;
}

const FLUSH_BYTES = 256 * 1024;

export async function partitionFile(
  task: PartitionTask,
  onBytes: (bytes: number) => void,
): Promise<PartitionResult> {
  const { file, shard } = task;
  const used = new Set(task.usedTypes);
  const shared = new Set(task.sharedTypes);
  const sharedLines: string[] = [];
  const result: PartitionResult = {
    linesRead: 0,
    resourcesByType: {},
    patients: 0,
    excluded: {},
    written: {},
  };
  const buffers = new Map<number, { fd: number; parts: string[]; size: number }>();
  const flush = (slot: { fd: number; parts: string[]; size: number }) => {
    writeSync(slot.fd, slot.parts.join(''));
    slot.parts = [];
    slot.size = 0;
  };
  // Lines no patient owns are counted once, by shard 0, so shard summaries add up.
  const countUnowned = shard.index === 0;
  try {
    for await (const { text, line } of readLines(file, onBytes)) {
      if (text.trim() === '') {
        continue;
      }
      const resource = parseResourceLine(text, file.name, line);
      const type = resource.resourceType;
      const patientId = patientIdOf(resource);
      if (patientId === undefined && shared.has(type)) {
        sharedLines.push(`${text}\n`);
        if (countUnowned) {
          result.linesRead += 1;
          addCount(result.resourcesByType, type);
        }
        continue;
      }
      if (patientId === undefined) {
        if (countUnowned) {
          result.linesRead += 1;
          addCount(result.resourcesByType, type);
          addCount(
            result.excluded,
            used.has(type)
              ? `${type} without a Patient reference`
              : `${type}: a type the service does not read`,
          );
        }
        continue;
      }
      const hash = hashPatientId(patientId);
      if (hash % shard.count !== shard.index) {
        continue;
      }
      result.linesRead += 1;
      addCount(result.resourcesByType, type);
      if (!used.has(type)) {
        addCount(result.excluded, `${type}: a type the service does not read`);
        continue;
      }
      if (type === 'Patient') {
        result.patients += 1;
      }
      const partition = partitionOf(hash, task.partitions);
      let slot = buffers.get(partition);
      if (slot === undefined) {
        const path = join(task.tmpDir, `p${partition}-f${task.fileIndex}.tsv`);
        slot = { fd: openSync(path, 'w'), parts: [], size: 0 };
        buffers.set(partition, slot);
        result.written[partition] = path;
      }
      const record = `${patientId}\t${task.fileIndex}:${line}\t${text}\n`;
      slot.parts.push(record);
      slot.size += record.length;
      if (slot.size >= FLUSH_BYTES) {
        flush(slot);
      }
    }
    if (sharedLines.length > 0) {
      result.sharedFile = join(task.tmpDir, `shared-f${task.fileIndex}.ndjson`);
      writeFileSync(result.sharedFile, sharedLines.join(''));
    }
  } finally {
    for (const slot of buffers.values()) {
      if (slot.size > 0) {
        flush(slot);
      }
      closeSync(slot.fd);
    }
  }
  return result;
}

function parseResourceLine(
  text: string,
  name: string,
  line: number,
): Record<string, unknown> & {
  resourceType: string;
} {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(
      `${name}:${line}: not an NDJSON line holding one FHIR resource (${reason})`,
    );
  }
  if (!isRecord(value) || typeof value.resourceType !== 'string') {
    throw new InputError(`${name}:${line}: not a FHIR resource (no resourceType)`);
  }
  const type = value.resourceType;
  if (type === 'Bundle') {
    throw new InputError(
      `${name}:${line}: a Bundle where Bulk Data NDJSON (one resource per line) is expected`,
    );
  }
  if (!FHIR_R4_RESOURCE_TYPES.has(type)) {
    throw new InputError(`${name}:${line}: unknown resource type '${type.slice(0, 64)}'`);
  }
  return { ...value, resourceType: type };
}

export interface AssessTask {
  task: 'assess';
  partition: number;
  files: string[];
  fileNames: string[];
  tmpDir: string;
  /** Resources no patient owns, read by `_include` (see PartitionTask.sharedTypes). */
  sharedFiles: string[];
  now: string;
  lookbackDays: number;
}

export interface AssessResult {
  patientsRead: number;
  patientsFlagged: number;
  patientsFailed: number;
  cardsByIndicator: Record<string, number>;
  cardsByKind: Record<string, Record<string, number>>;
  excluded: Record<string, number>;
  failures: string[];
  /** This partition's flagged patients, in patient order, or undefined when none. */
  flaggedFile?: string;
}

interface PatientLines {
  hash: number;
  origin: string;
  lines: string[];
}

export async function assessPartition(
  task: AssessTask,
  service: CdsService,
  kindOf: (card: { summary: string }) => string,
  onPatients: (done: number) => void,
): Promise<AssessResult> {
  const byPatient = new Map<string, PatientLines>();
  for (const file of task.files) {
    for (const record of readFileSync(file, 'utf8').split('\n')) {
      if (record === '') {
        continue;
      }
      const firstTab = record.indexOf('\t');
      const secondTab = record.indexOf('\t', firstTab + 1);
      const id = record.slice(0, firstTab);
      const text = record.slice(secondTab + 1);
      let group = byPatient.get(id);
      if (group === undefined) {
        group = {
          hash: hashPatientId(id),
          origin: record.slice(firstTab + 1, secondTab),
          lines: [],
        };
        byPatient.set(id, group);
      }
      group.lines.push(text);
    }
  }
  const ids = [...byPatient.keys()].sort((a, b) => {
    const ha = byPatient.get(a)?.hash ?? 0;
    const hb = byPatient.get(b)?.hash ?? 0;
    return ha !== hb ? ha - hb : a < b ? -1 : a > b ? 1 : 0;
  });
  const result: AssessResult = {
    patientsRead: 0,
    patientsFlagged: 0,
    patientsFailed: 0,
    cardsByIndicator: {},
    cardsByKind: {},
    excluded: {},
    failures: [],
  };
  const flagged: string[] = [];
  const now = new Date(task.now);
  const shared = loadShared(task.sharedFiles);
  let done = 0;
  for (const id of ids) {
    const group = byPatient.get(id);
    byPatient.delete(id);
    if (group === undefined) {
      continue;
    }
    const resources = group.lines.map((text) => JSON.parse(text) as Record<string, unknown>);
    const own = lookupAmong(resources);
    const lookup = (type: string, id: string) => own(type, id) ?? shared.get(`${type}/${id}`);
    if (!resources.some((r) => r.resourceType === 'Patient')) {
      for (const resource of resources) {
        addCount(
          result.excluded,
          `${String(resource.resourceType)} of a patient not in the export`,
        );
      }
      continue;
    }
    result.patientsRead += 1;
    try {
      const response = await answerPatientView(
        service,
        id,
        resources,
        { now, lookbackDays: task.lookbackDays },
        lookup,
      );
      if (response.cards.length > 0) {
        result.patientsFlagged += 1;
        const cards = response.cards.map((card) => {
          const kind = kindOf(card);
          addCount(result.cardsByIndicator, card.indicator);
          addCount((result.cardsByKind[kind] ??= {}), card.indicator);
          return { indicator: card.indicator, summary: card.summary };
        });
        flagged.push(`${JSON.stringify({ patientId: id, cards })}\n`);
      }
    } catch (error) {
      result.patientsFailed += 1;
      if (result.failures.length < MAX_LISTED_FAILURES) {
        result.failures.push(
          `${originName(group.origin, task.fileNames)}: Patient/${id}: ${describe(error)}`,
        );
      }
    }
    done += 1;
    if (done % 100 === 0) {
      onPatients(done);
    }
  }
  onPatients(done);
  if (flagged.length > 0) {
    result.flaggedFile = join(task.tmpDir, `flagged-${task.partition}.ndjson`);
    const fd = openSync(result.flaggedFile, 'w');
    writeSync(fd, flagged.join(''));
    closeSync(fd);
  }
  return result;
}

let sharedCache: { key: string; byKey: Map<string, Record<string, unknown>> } | undefined;

/** Loaded once per worker and sweep: a formulary's Medications, not a population's records. */
function loadShared(files: readonly string[]): Map<string, Record<string, unknown>> {
  const key = files.join('\n');
  if (sharedCache?.key !== key) {
    const byKey = new Map<string, Record<string, unknown>>();
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line !== '') {
          const resource = JSON.parse(line) as Record<string, unknown>;
          byKey.set(`${String(resource.resourceType)}/${String(resource.id)}`, resource);
        }
      }
    }
    sharedCache = { key, byKey };
  }
  return sharedCache.byKey;
}

function originName(origin: string, fileNames: readonly string[]): string {
  const [fileIndex = '0', line = '0'] = origin.split(':');
  return `${fileNames[Number(fileIndex)] ?? '?'}:${line}`;
}

function describe(error: unknown): string {
  if (isCdsError(error)) {
    const issues = error.issues.map((issue) => `${issue.path ?? ''} ${issue.message}`.trim());
    return `${error.message}${issues.length > 0 ? ` (${issues.join('; ')})` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

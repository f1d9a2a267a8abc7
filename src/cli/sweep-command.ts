import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CdsService } from '../cds/service.js';
import { InputError, type CliIo } from './cli-error.js';
import { listInputFiles } from './ndjson-input.js';
import { includedTypesOf } from './offline-prefetch.js';
import { formatBytes, Progress } from './progress.js';
import { renderReport } from './report-html.js';
import type { AssessResult, AssessTask, PartitionResult, PartitionTask } from './sweep-tasks.js';
import {
  addCounts,
  emptySummary,
  finishSummary,
  MAX_LISTED_FAILURES,
  type SweepSummary,
} from './sweep-summary.js';
import { WorkerPool } from './worker-pool.js';

export interface SweepOptions {
  dir: string;
  outDir: string;
  jobs: number;
  shard: { index: number; count: number };
  now: Date;
  lookbackDays: number;
  progress: boolean;
}

/** A partition holds about this much raw NDJSON, so a worker's memory stays bounded. */
const PARTITION_BYTES = 32 * 2 ** 20;
/** gzip shrinks FHIR NDJSON about eightfold; only used to size the partitions. */
const GZIP_RATIO = 8;
const MAX_PARTITIONS = 512;

export const OUTPUT_FILES = {
  flagged: 'flagged.ndjson',
  summary: 'summary.json',
  report: 'report.html',
} as const;

/** `hepatic-trends sweep`: the service's answer for every patient of a Bulk Data export. */
export async function runSweep(
  service: CdsService,
  options: SweepOptions,
  io: CliIo,
): Promise<SweepSummary> {
  const files = await listInputFiles(options.dir);
  if (files.length === 0) {
    throw new InputError(`${options.dir}: no NDJSON files in the directory`);
  }
  await mkdir(options.outDir, { recursive: true });
  const tmpDir = await mkdtemp(join(options.outDir, '.sweep-'));
  const progress = new Progress(io.stderr, options.progress);
  const pool = new WorkerPool(options.jobs);
  try {
    const estimated = files.reduce((sum, f) => sum + f.bytes * (f.gzip ? GZIP_RATIO : 1), 0);
    // Several partitions per worker, so one slow partition does not leave the others idle.
    const partitions = Math.min(
      MAX_PARTITIONS,
      Math.max(options.jobs * 4, Math.ceil(estimated / options.shard.count / PARTITION_BYTES)),
    );
    const usedTypes = usedResourceTypes(service);
    const sharedTypes = [
      ...new Set(Object.values(service.definition.prefetch ?? {}).flatMap(includedTypesOf)),
    ];

    progress.start(
      'Reading',
      files.reduce((sum, f) => sum + f.bytes, 0),
      'MB',
      (bytes) => formatBytes(bytes).replace(' MB', ''),
    );
    const partitionTasks: PartitionTask[] = files.map((file, fileIndex) => ({
      task: 'partition',
      file,
      fileIndex,
      tmpDir,
      partitions,
      shard: options.shard,
      usedTypes: [...usedTypes, ...sharedTypes],
      sharedTypes,
    }));
    const read = await pool.run<PartitionTask, PartitionResult>(partitionTasks, (message) =>
      progress.advance(message.bytes ?? 0),
    );
    progress.end();

    const summary = emptySummary(options.now, options.lookbackDays, options.shard);
    summary.inputFiles = files.length;
    const byPartition: string[][] = Array.from({ length: partitions }, () => []);
    let patients = 0;
    const sharedFiles: string[] = [];
    for (const result of read) {
      if (result.sharedFile !== undefined) {
        sharedFiles.push(result.sharedFile);
      }
      summary.linesRead += result.linesRead;
      addCounts(summary.resourcesByType, result.resourcesByType);
      addCounts(summary.excluded, result.excluded);
      patients += result.patients;
      for (const [partition, path] of Object.entries(result.written)) {
        byPartition[Number(partition)]?.push(path);
      }
    }

    progress.start('Assessing', patients, 'patients');
    const assessTasks: AssessTask[] = byPartition.flatMap((paths, partition) =>
      paths.length === 0
        ? []
        : [
            {
              task: 'assess' as const,
              partition,
              files: paths,
              fileNames: files.map((f) => f.name),
              tmpDir,
              sharedFiles,
              now: options.now.toISOString(),
              lookbackDays: options.lookbackDays,
            },
          ],
    );
    const assessed = await pool.run<AssessTask, AssessResult>(assessTasks, (message) =>
      progress.advance(message.patients ?? 0),
    );
    progress.end();

    // Partitions in order are patients in hash order: concatenating them sorts the whole output.
    const flagged = await open(join(options.outDir, OUTPUT_FILES.flagged), 'w');
    for (const result of assessed) {
      summary.patientsRead += result.patientsRead;
      summary.patientsFlagged += result.patientsFlagged;
      summary.patientsFailed += result.patientsFailed;
      addCounts(summary.cards.byIndicator, result.cardsByIndicator);
      for (const [kind, counts] of Object.entries(result.cardsByKind)) {
        addCounts((summary.cards.byKind[kind] ??= {}), counts);
      }
      addCounts(summary.excluded, result.excluded);
      summary.failures = [...summary.failures, ...result.failures].slice(0, MAX_LISTED_FAILURES);
      if (result.flaggedFile !== undefined) {
        await flagged.write(await readFile(result.flaggedFile));
      }
    }
    await flagged.close();
    summary.cards.total = Object.values(summary.cards.byIndicator).reduce((a, b) => a + b, 0);
    await writeSummaryAndReport(options.outDir, finishSummary(summary));
    return summary;
  } finally {
    await pool.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

export async function writeSummaryAndReport(outDir: string, summary: SweepSummary) {
  await writeFile(join(outDir, OUTPUT_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(outDir, OUTPUT_FILES.report), await renderReport(summary));
}

/** Patient, plus every type a prefetch template of the service reads or searches. */
function usedResourceTypes(service: CdsService): string[] {
  const types = new Set(['Patient']);
  for (const template of Object.values(service.definition.prefetch ?? {})) {
    const type = /^\/?([A-Z][A-Za-z]+)/.exec(template)?.[1];
    if (type !== undefined) {
      types.add(type);
    }
  }
  return [...types];
}

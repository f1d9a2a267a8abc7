import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isRecord } from '../fhir/guards.js';
import { InputError } from './cli-error.js';
import { comparePatients } from './patient-hash.js';
import { OUTPUT_FILES, writeSummaryAndReport } from './sweep-command.js';
import { finishSummary, mergeSummaryInto, type SweepSummary } from './sweep-summary.js';

/**
 * `hepatic-trends merge`: shard outputs → the output of one run over the whole export. Each shard's
 * flagged.ndjson is in patient order already, so a k-way merge streams them without loading any.
 */
export async function runMerge(
  outDir: string,
  shardDirs: readonly string[],
): Promise<SweepSummary> {
  const summaries = await Promise.all(shardDirs.map(readSummary));
  const [first, ...rest] = summaries;
  if (first === undefined) {
    throw new InputError('no shard output directories given');
  }
  const merged: SweepSummary = structuredClone(first);
  const seen = new Set(first.shards.indexes);
  rest.forEach((summary, i) => {
    const dir = shardDirs[i + 1] ?? '';
    for (const field of ['now', 'lookbackDays'] as const) {
      if (summary[field] !== first[field]) {
        throw new InputError(
          `${join(dir, OUTPUT_FILES.summary)}: ${field} ${summary[field]} differs from ${first[field]} in ${shardDirs[0]}; shards of one sweep share it`,
        );
      }
    }
    if (summary.shards.count !== first.shards.count) {
      throw new InputError(
        `${join(dir, OUTPUT_FILES.summary)}: a shard of ${summary.shards.count}, the others are of ${first.shards.count}`,
      );
    }
    for (const index of summary.shards.indexes) {
      if (seen.has(index)) {
        throw new InputError(`${join(dir, OUTPUT_FILES.summary)}: shard ${index} is given twice`);
      }
      seen.add(index);
    }
    const inputFiles = Math.max(merged.inputFiles, summary.inputFiles);
    mergeSummaryInto(merged, summary);
    // Every shard reads every file; the count is of files, not of reads.
    merged.inputFiles = inputFiles;
    merged.shards.indexes.push(...summary.shards.indexes);
  });
  const missing = Array.from({ length: first.shards.count }, (_, i) => i).filter(
    (i) => !seen.has(i),
  );
  if (missing.length > 0) {
    throw new InputError(
      `shard(s) ${missing.join(', ')} of ${first.shards.count} missing: merge needs every shard's output`,
    );
  }
  await mkdir(outDir, { recursive: true });
  await mergeFlagged(
    shardDirs.map((dir) => join(dir, OUTPUT_FILES.flagged)),
    join(outDir, OUTPUT_FILES.flagged),
  );
  finishSummary(merged);
  await writeSummaryAndReport(outDir, merged);
  return merged;
}

async function readSummary(dir: string): Promise<SweepSummary> {
  const file = join(dir, OUTPUT_FILES.summary);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(
      `${file}: not a sweep summary (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!isRecord(value) || value.tool !== 'hepatic-trends sweep' || !isRecord(value.shards)) {
    throw new InputError(`${file}:1: not a summary written by hepatic-trends sweep`);
  }
  return value as unknown as SweepSummary;
}

async function mergeFlagged(inputs: readonly string[], output: string): Promise<void> {
  const readers = inputs.map((file) => ({
    file,
    lines: createInterface({ input: createReadStream(file), crlfDelay: Infinity })[
      Symbol.asyncIterator
    ](),
    line: 0,
  }));
  const heads = await Promise.all(readers.map((reader) => nextRecord(reader)));
  const out = createWriteStream(output);
  for (;;) {
    let best = -1;
    heads.forEach((head, i) => {
      const current = best < 0 ? undefined : heads[best];
      if (
        head !== undefined &&
        (current === undefined || comparePatients(head.id, current.id) < 0)
      ) {
        best = i;
      }
    });
    const chosen = best < 0 ? undefined : heads[best];
    const reader = readers[best];
    if (chosen === undefined || reader === undefined) {
      break;
    }
    if (!out.write(`${chosen.text}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    heads[best] = await nextRecord(reader);
  }
  await new Promise<void>((resolve, reject) => {
    out.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

async function nextRecord(reader: {
  file: string;
  lines: AsyncIterator<string>;
  line: number;
}): Promise<{ id: string; text: string } | undefined> {
  for (;;) {
    const next = await reader.lines.next();
    if (next.done === true) {
      return undefined;
    }
    reader.line += 1;
    const text = next.value;
    if (text.trim() === '') {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InputError(`${reader.file}:${reader.line}: not valid JSON`);
    }
    if (!isRecord(value) || typeof value.patientId !== 'string') {
      throw new InputError(`${reader.file}:${reader.line}: a flagged line needs a patientId`);
    }
    return { id: value.patientId, text };
  }
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pathToFileURL } from 'node:url';
import { services } from '../../hooks/index.js';
import { isRecord } from '../fhir/guards.js';
import { isCdsError } from '../http/errors.js';
import { loadConfig } from '../config.js';
import type { CdsService } from '../cds/service.js';
import { availableParallelism } from 'node:os';
import { runAssess } from './assess-command.js';
import { runMerge } from './merge-command.js';
import { runSweep } from './sweep-command.js';
import type { SweepSummary } from './sweep-summary.js';
import { InputError, UsageError, type CliIo } from './cli-error.js';
import { OfflineSearchError } from './offline-prefetch.js';

const MAIN_HELP = `Usage: hepatic-trends <command> [options]

Runs the liver-trends CDS service on files, with the same engine, rules and cards as the HTTP service.

Commands:
  assess FILE|-        the cards the service would return for one patient's FHIR Bundle
  sweep DIR --out OUT  every patient of a FHIR Bulk Data export: flagged patients, counts, report
  merge --out OUT DIR… combine the outputs of sharded sweeps into the output of one run

Options:
  -h, --help           show help (also: hepatic-trends <command> --help)

Exit codes: 0 done, 1 bad input or failure, 2 wrong usage.
`;

const ASSESS_HELP = `Usage: hepatic-trends assess FILE|- [options]

Reads a FHIR R4 Bundle (searchset, collection or transaction) holding one patient's Patient,
Observations, Conditions, MedicationRequests and DiagnosticReports ('-' reads standard input), and
prints what the patient-view service would answer: the CDS Hooks response itself (--format json) or
a readable summary (--format text). The trend-page link is left out: it needs a running service.

Options:
  --format json|text   output format (default json)
  --now ISO            evaluate as of this instant, e.g. 2026-05-01T12:00:00Z (default: now)
  --patient ID         which patient, when the Bundle holds several
  -h, --help           show this help
`;

const SWEEP_HELP = `Usage: hepatic-trends sweep DIR --out OUTDIR [options]

Reads a FHIR Bulk Data export: every file under DIR (hidden files and manifest.json aside), NDJSON,
gzip-compressed or not, split in any way and named in any way; the resource type is read from each
line. Resources are partitioned by patient into temporary files under OUTDIR (memory stays bounded
by a partition, not by the export), then each patient is assessed by the patient-view service in
worker threads. Writes:
  OUTDIR/flagged.ndjson   one line per patient with at least one card (patientId, indicator, summary)
  OUTDIR/summary.json     patients read and flagged, cards by kind and indicator, per 1 000 patients,
                          records left out and why
  OUTDIR/report.html      the same with charts, self-contained (opens from disk)
Progress goes to stderr: a bar on a terminal, a line every 10 s otherwise.

Options:
  --out OUTDIR         output directory (created if needed)
  --jobs N             worker threads (default: the number of CPU cores)
  --shard I/N          only patients whose id hashes to shard I of N (0 ≤ I < N); see merge
  --now ISO            evaluate as of this instant (default: now); give every shard the same
  --quiet              no progress output
  -h, --help           show this help

Exit code 1 when a line is not a FHIR resource (message: file:line) or when a patient could not be
assessed (the outputs are written; summary.json lists the failures).
`;

const MERGE_HELP = `Usage: hepatic-trends merge --out OUTDIR SHARD_OUTDIR...

Combines the outputs of 'sweep --shard I/N' for every I into OUTDIR: flagged.ndjson (in the same
order as a single run), summary.json and report.html, equal to those of one sweep over the export.
Every shard of the same sweep (same N and --now) must be given exactly once.

Options:
  --out OUTDIR         output directory (created if needed)
  -h, --help           show this help
`;

interface Command {
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(parsed: Parsed, io: CliIo, service: CdsService): Promise<void>;
}

interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

const COMMANDS: Record<string, Command> = {
  assess: {
    help: ASSESS_HELP,
    options: {
      format: { type: 'string', default: 'json' },
      now: { type: 'string' },
      patient: { type: 'string' },
    },
    async run({ values, positionals }, io, service) {
      const file = onePositional(positionals, 'FILE|-');
      const patient = stringOption(values, 'patient');
      await runAssess(
        service,
        {
          file,
          format: formatOption(values),
          now: nowOption(values),
          lookbackDays: loadConfig(process.env).LOOKBACK_DAYS,
          ...(patient === undefined ? {} : { patientId: patient }),
        },
        io,
      );
    },
  },
  sweep: {
    help: SWEEP_HELP,
    options: {
      out: { type: 'string' },
      jobs: { type: 'string' },
      shard: { type: 'string' },
      now: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    async run({ values, positionals }, io, service) {
      const dir = onePositional(positionals, 'export directory DIR');
      const summary = await runSweep(
        service,
        {
          dir,
          outDir: requiredOption(values, 'out'),
          jobs: jobsOption(values),
          shard: shardOption(values),
          now: nowOption(values),
          lookbackDays: loadConfig(process.env).LOOKBACK_DAYS,
          progress: values.quiet !== true,
        },
        io,
      );
      reportRun(summary, io);
    },
  },
  merge: {
    help: MERGE_HELP,
    options: { out: { type: 'string' } },
    async run({ values, positionals }, io) {
      if (positionals.length === 0) {
        throw new UsageError('expected the output directories of the shards');
      }
      reportRun(await runMerge(requiredOption(values, 'out'), positionals), io);
    },
  },
};

function reportRun(summary: SweepSummary, io: CliIo): void {
  io.stderr.write(
    `${summary.patientsRead} patients read, ${summary.patientsFlagged} with a card, ${summary.cards.total} cards (${summary.cardsPer1000Patients} per 1 000 patients)\n`,
  );
  if (summary.patientsFailed > 0) {
    throw new InputError(
      `${summary.patientsFailed} patient(s) could not be assessed, first: ${summary.failures[0] ?? '?'} (all listed in summary.json)`,
    );
  }
}

function requiredOption(values: Parsed['values'], name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') {
    throw new UsageError(`--${name} is required`);
  }
  return value;
}

function jobsOption(values: Parsed['values']): number {
  const raw = stringOption(values, 'jobs');
  if (raw === undefined) {
    return availableParallelism();
  }
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) {
    throw new UsageError(`--jobs must be a whole number from 1 to 256; got '${raw}'`);
  }
  return Number(raw);
}

function shardOption(values: Parsed['values']): { index: number; count: number } {
  const raw = stringOption(values, 'shard');
  if (raw === undefined) {
    return { index: 0, count: 1 };
  }
  const match = /^(\d+)\/(\d+)$/.exec(raw);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index >= count || count > 1_000_000) {
    throw new UsageError(`--shard must be I/N with 0 ≤ I < N, e.g. 0/4; got '${raw}'`);
  }
  return { index, count };
}

/** Runs the command line and returns the exit code; `io` lets tests run it in-process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`hepatic-trends: unknown command '${name}'; see hepatic-trends --help\n`);
    return 2;
  }
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help === true) {
      io.stdout.write(command.help);
      return 0;
    }
    const service = services.find((s) => s.definition.hook === 'patient-view');
    if (service === undefined) {
      throw new Error('no patient-view service is registered in hooks/index.ts');
    }
    await command.run(parsed, io, service);
    return 0;
  } catch (error) {
    return reportError(error, name, io);
  }
}

function reportError(error: unknown, command: string, io: CliIo): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    const message = isRecord(error) && typeof error.message === 'string' ? error.message : '';
    io.stderr.write(
      `hepatic-trends ${command}: ${message.replace(/\.$/, '')}; see hepatic-trends ${command} --help\n`,
    );
    return 2;
  }
  if (error instanceof InputError || error instanceof OfflineSearchError) {
    io.stderr.write(`hepatic-trends ${command}: ${error.message}\n`);
    return 1;
  }
  if (isCdsError(error)) {
    const issues = error.issues.map((issue) => `${issue.path ?? ''} ${issue.message}`.trim());
    io.stderr.write(
      `hepatic-trends ${command}: the service refused the record: ${error.message}${issues.length > 0 ? ` (${issues.join('; ')})` : ''}\n`,
    );
    return 1;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`hepatic-trends ${command}: unexpected failure: ${message}\n`);
  return 1;
}

function isParseArgsError(error: unknown): boolean {
  // Duck-typed: errors from node:util may come from another realm (vm contexts) than ours.
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('ERR_PARSE_ARGS')
  );
}

export function onePositional(positionals: readonly string[], what: string): string {
  if (positionals.length !== 1 || positionals[0] === undefined) {
    throw new UsageError(`expected exactly one ${what}, got ${positionals.length}`);
  }
  return positionals[0];
}

function stringOption(values: Parsed['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function formatOption(values: Parsed['values']): 'json' | 'text' {
  const format = stringOption(values, 'format') ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new UsageError(`--format must be json or text; got '${format}'`);
  }
  return format;
}

function nowOption(values: Parsed['values']): Date {
  const raw = stringOption(values, 'now');
  if (raw === undefined) {
    return new Date();
  }
  // A full date-time with a zone, or a plain date (taken as midnight UTC): never local time.
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const at = new Date(raw);
  if (!iso.test(raw) || Number.isNaN(at.getTime())) {
    throw new UsageError(`--now must be an ISO 8601 date or date-time with a zone; got '${raw}'`);
  }
  return at;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  });
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pathToFileURL } from 'node:url';
import { services } from '../../hooks/index.js';
import { isRecord } from '../fhir/guards.js';
import { isCdsError } from '../http/errors.js';
import { loadConfig } from '../config.js';
import type { CdsService } from '../cds/service.js';
import { runAssess } from './assess-command.js';
import { InputError, UsageError, type CliIo } from './cli-error.js';
import { OfflineSearchError } from './offline-prefetch.js';

const MAIN_HELP = `Usage: hepatic-trends <command> [options]

Runs the liver-trends CDS service on files, with the same engine, rules and cards as the HTTP service.

Commands:
  assess FILE|-        the cards the service would return for one patient's FHIR Bundle

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
};

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

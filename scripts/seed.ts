/**
 * Uploads the demo patients to any FHIR R4 server as transactions of PUT entries with stable ids, so
 * running it again updates the same resources.
 *
 *   npm run seed -- --fhir-server <base-url> [--token <bearer>] [--service <cds-base-url>] [--wait <seconds>]
 *
 * `--wait` keeps retrying while the server cannot be reached or answers 5xx (a HAPI container needs a
 * minute or so to start).
 *
 * HAPI answers entry statuses as "201 Created", the embedded server as "201": both are read with parseInt.
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { buildPatientViewCurl } from '../src/fhir-server/demo-curl.js';
import type { DemoPatient, DemoTransaction } from '../src/fhir-server/demo-bundle.js';
import {
  listDemoPatients,
  loadDemoBundle,
  splitTransaction,
} from '../src/fhir-server/demo-bundle.js';

export const DEFAULT_SERVICE_ID = 'liver-trends';
const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_INTERVAL_MS = 3_000;

export interface SeedOptions {
  fhirServer: string;
  token?: string;
  now: Date;
  log: (line: string) => void;
  /** Keep retrying an unreachable or starting server for this long. */
  waitSeconds?: number;
}

export interface SeedResult {
  patients: DemoPatient[];
  created: number;
  updated: number;
}

/** A failure worth one clear line to the user (no stack trace). */
export class SeedError extends Error {
  override readonly name = 'SeedError';
}

/** The server is not there yet, or not ready: worth another try when waiting. */
class RetryableSeedError extends SeedError {}

const OutcomeSchema = z.object({
  resourceType: z.literal('OperationOutcome'),
  issue: z
    .array(
      z.object({
        diagnostics: z.string().optional(),
        details: z.object({ text: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});
const TransactionResponseSchema = z.object({
  resourceType: z.literal('Bundle'),
  entry: z
    .array(
      z.object({
        response: z.object({ status: z.string(), location: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

export async function seedDemoBundle(opts: SeedOptions): Promise<SeedResult> {
  const base = opts.fhirServer.replace(/\/+$/, '');
  await waitForCapabilityStatement(base, opts);
  const bundle = loadDemoBundle(opts.now);
  const chunks = splitTransaction(bundle);
  let created = 0;
  let updated = 0;
  for (const [i, chunk] of chunks.entries()) {
    const statuses = await postTransaction(base, chunk, opts.token);
    created += statuses.filter((s) => s === 201).length;
    updated += statuses.filter((s) => s === 200).length;
    opts.log(`Transaction ${i + 1}/${chunks.length}: ${chunk.entry.length} entries accepted`);
  }
  return { patients: listDemoPatients(bundle), created, updated };
}

async function waitForCapabilityStatement(base: string, opts: SeedOptions): Promise<void> {
  const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
  for (;;) {
    try {
      await checkCapabilityStatement(base, opts.token);
      return;
    } catch (err) {
      if (!(err instanceof RetryableSeedError) || Date.now() >= deadline) {
        throw err;
      }
      opts.log(`Waiting for ${base}: ${err.message}`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS));
    }
  }
}

async function checkCapabilityStatement(base: string, token: string | undefined): Promise<void> {
  const response = await request(
    `${base}/metadata`,
    { method: 'GET', headers: headers(token) },
    base,
  );
  const body = await readJson(response);
  const parsed = z
    .object({ resourceType: z.literal('CapabilityStatement'), fhirVersion: z.string().optional() })
    .safeParse(body);
  if (response.status >= 500) {
    throw new RetryableSeedError(`${base}/metadata answered HTTP ${response.status}`);
  }
  if (!response.ok || !parsed.success) {
    throw new SeedError(
      `${base} does not look like a FHIR server: GET /metadata answered HTTP ${response.status} ` +
        `(${response.headers.get('content-type') ?? 'no content type'}) without a CapabilityStatement`,
    );
  }
  if (parsed.data.fhirVersion && !parsed.data.fhirVersion.startsWith('4.0')) {
    throw new SeedError(
      `${base} speaks FHIR ${parsed.data.fhirVersion}; the demo data are FHIR R4 (4.0.x)`,
    );
  }
}

async function postTransaction(
  base: string,
  chunk: DemoTransaction,
  token: string | undefined,
): Promise<number[]> {
  const response = await request(
    base,
    {
      method: 'POST',
      headers: { ...headers(token), 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify(chunk),
    },
    base,
  );
  const body = await readJson(response);
  if (!response.ok) {
    throw new SeedError(
      `The server rejected the demo Bundle (HTTP ${response.status}): ${describeOutcome(body)}`,
    );
  }
  const parsed = TransactionResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw new SeedError(
      `The server answered the transaction with something other than a Bundle (HTTP ${response.status})`,
    );
  }
  const statuses = (parsed.data.entry ?? []).map((e) =>
    Number.parseInt(e.response?.status ?? '', 10),
  );
  const failed = statuses.flatMap((status, i) =>
    status >= 200 && status < 300
      ? []
      : [`${chunk.entry[i]?.request.url ?? i} → ${Number.isNaN(status) ? 'no status' : status}`],
  );
  if (failed.length || statuses.length !== chunk.entry.length) {
    throw new SeedError(
      `The server rejected part of the demo Bundle (${failed.length || 'some'} of ${chunk.entry.length} entries): ${failed.slice(0, 5).join(', ')}`,
    );
  }
  return statuses;
}

async function request(url: string, init: RequestInit, base: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new RetryableSeedError(`Cannot reach the FHIR server at ${base}: ${cause}`);
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function headers(token: string | undefined): Record<string, string> {
  // Ask HAPI not to answer a repeated search from its 60-second cache; harmless elsewhere.
  const base: Record<string, string> = {
    Accept: 'application/fhir+json',
    'Cache-Control': 'no-cache',
  };
  return token ? { ...base, Authorization: `Bearer ${token}` } : base;
}

function describeOutcome(body: unknown): string {
  const parsed = OutcomeSchema.safeParse(body);
  if (!parsed.success) {
    return 'no OperationOutcome in the answer';
  }
  const texts = (parsed.data.issue ?? [])
    .map((i) => i.diagnostics ?? i.details?.text)
    .filter(Boolean);
  return texts.join('; ') || 'no details given';
}

export interface CliIo {
  log: (line: string) => void;
  error: (line: string) => void;
  now: Date;
}

const USAGE =
  'usage: npm run seed -- --fhir-server <base-url> [--token <bearer>] [--service <cds-service-base-url>] [--wait <seconds>]';

/** The command line: returns the process exit code. */
export async function runSeedCli(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  if (!args) {
    io.error(USAGE);
    return 2;
  }
  try {
    io.log(`Seeding the demo patients into ${args.fhirServer}`);
    const result = await seedDemoBundle({
      fhirServer: args.fhirServer,
      token: args.token,
      now: io.now,
      log: io.log,
      waitSeconds: args.waitSeconds,
    });
    // The embedded server answers 200 to every upsert, HAPI 201 to a create: report what the server says.
    io.log(
      `Done: ${result.created + result.updated} resources written (${result.created} created, ${result.updated} updated, as reported by the server).`,
    );
    io.log('');
    io.log('Demo patients:');
    for (const p of result.patients) {
      io.log(`  ${p.id.padEnd(20)} ${p.name.padEnd(18)} ${p.scenario}`);
    }
    const first = result.patients[0];
    if (first) {
      io.log('');
      io.log(`Try it (the CDS service fetches ${first.name}'s data from ${args.fhirServer}):`);
      io.log(
        buildPatientViewCurl({
          serviceBaseUrl: args.service,
          serviceId: DEFAULT_SERVICE_ID,
          fhirServer: args.fhirServer.replace(/\/+$/, ''),
          patientId: first.id,
          accessToken: args.token,
        }),
      );
    }
    return 0;
  } catch (err) {
    io.error(
      err instanceof SeedError ? `seed: ${err.message}` : `seed: unexpected error: ${String(err)}`,
    );
    return 1;
  }
}

function parseArgs(
  argv: readonly string[],
): { fhirServer: string; token?: string; service: string; waitSeconds: number } | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (
      !key ||
      !['--fhir-server', '--token', '--service', '--wait'].includes(key) ||
      value === undefined
    ) {
      return undefined;
    }
    values.set(key, value);
  }
  const fhirServer = values.get('--fhir-server');
  const waitSeconds = Number(values.get('--wait') ?? '0');
  if (!fhirServer || !/^https?:\/\//.test(fhirServer) || !(waitSeconds >= 0)) {
    return undefined;
  }
  return {
    fhirServer,
    token: values.get('--token'),
    service: values.get('--service') ?? 'http://localhost:3000',
    waitSeconds,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runSeedCli(process.argv.slice(2), {
    log: (line) => process.stdout.write(`${line}\n`),
    error: (line) => process.stderr.write(`${line}\n`),
    now: new Date(),
  });
  process.exitCode = code;
}

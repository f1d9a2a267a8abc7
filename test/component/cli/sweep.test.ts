import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateExport, TEMPLATES_WITHOUT_CARDS } from '../../../bench/generate-export.js';
import { runCli } from '../../../src/cli/main.js';
import { CdsResponseSchema } from '../../../src/cds/schemas.js';
import { loadDemoBundle } from '../../../src/fhir-server/demo-bundle.js';
import { captureIo } from '../../support/cli-io.js';

// Workers start from the TypeScript sources, which takes a few seconds on a busy machine.
const TIMEOUT_MS = 120_000;

const NOW = '2026-06-01T12:00:00.000Z';
const PATIENTS = 42;

interface FlaggedLine {
  patientId: string;
  cards: { indicator: string; summary: string }[];
}

function readFlagged(dir: string): FlaggedLine[] {
  return readFileSync(join(dir, 'flagged.ndjson'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FlaggedLine);
}

function readSummary(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
}

describe('hepatic-trends sweep and merge', () => {
  let root: string;
  let exportDir: string;
  let single: string;
  let templateOf: (id: string) => string;
  let observations: number;

  async function sweep(args: string[]): Promise<{ code: number; err: string }> {
    const io = captureIo();
    const code = await runCli(['sweep', ...args, '--now', NOW, '--jobs', '2'], io);
    return { code, err: io.err() };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cli-sweep-'));
    exportDir = join(root, 'export');
    const generated = await generateExport(exportDir, PATIENTS, new Date(NOW));
    templateOf = generated.templateOf;
    observations = generated.observations;
    single = join(root, 'single');
    const run = await sweep([exportDir, '--out', single]);
    if (run.code !== 0) {
      throw new Error(`the single sweep failed: ${run.err}`);
    }
  }, TIMEOUT_MS);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test(
    'Flags exactly the patients whose scenario should get cards, each with its template’s cards',
    async () => {
      const flagged = readFlagged(single);
      const expected = Array.from({ length: PATIENTS }, (_, i) => i)
        .map((i) => `p${i}-`)
        .flatMap((prefix) => {
          const template = loadDemoTemplates()[Number(prefix.slice(1, -1)) % 7] ?? '';
          return TEMPLATES_WITHOUT_CARDS.includes(template) ? [] : [`${prefix}${template}`];
        });
      expect(flagged.map((f) => f.patientId).sort()).toEqual(expected.sort());

      // The cards are those `assess` gives for the demo patient the record was copied from.
      for (const template of new Set(flagged.map((f) => templateOf(f.patientId)))) {
        const io = captureIo(JSON.stringify(templateBundle(template)));
        expect(await runCli(['assess', '-', '--now', NOW], io)).toBe(0);
        const cards = CdsResponseSchema.parse(JSON.parse(io.out())).cards.map((c) => ({
          indicator: c.indicator,
          summary: c.summary,
        }));
        for (const line of flagged.filter((f) => templateOf(f.patientId) === template)) {
          expect(line.cards).toEqual(cards);
        }
      }
    },
    TIMEOUT_MS,
  );

  test('summary.json counts patients, cards by kind and indicator, and what was left out', () => {
    const summary = readSummary(single);
    const flagged = readFlagged(single);
    const cards = flagged.reduce((n, f) => n + f.cards.length, 0);
    expect(summary).toMatchObject({
      patientsRead: PATIENTS,
      patientsFlagged: flagged.length,
      patientsFailed: 0,
      cards: { total: cards, byKind: { 'cholestatic-shift': expect.any(Object) } },
      cardsPer1000Patients: Math.round((cards / PATIENTS) * 100_000) / 100,
      excluded: {
        'Encounter: a type the service does not read': Math.ceil(PATIENTS / 10),
        'Observation of a patient not in the export': Math.ceil(PATIENTS / 10),
      },
    });
    // Split files, half of them gzip-compressed, and every Observation read from them.
    expect(summary.inputFiles).toBeGreaterThanOrEqual(4);
    expect((summary.resourcesByType as Record<string, number>).Observation).toBe(
      observations + Math.ceil(PATIENTS / 10),
    );
  });

  test('report.html is self-contained: the chart library inlined, no external scripts', () => {
    const html = readFileSync(join(single, 'report.html'), 'utf8');
    expect(html).toMatch(/<canvas id="by-kind"/);
    expect(html).toMatch(/Chart\.js v4/);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain(`Patients read<b>${PATIENTS}</b>`);
  });

  test(
    'Three shards merged give exactly the single run’s flagged patients and counts',
    async () => {
      const shards = [0, 1, 2].map((i) => join(root, `shard-${i}`));
      for (const [i, dir] of shards.entries()) {
        expect(await sweep([exportDir, '--out', dir, '--shard', `${i}/3`])).toMatchObject({
          code: 0,
        });
      }
      const sizes = shards.map((dir) => readSummary(dir).patientsRead as number);
      expect(sizes.every((n) => n > 0 && n < PATIENTS)).toBe(true);

      const merged = join(root, 'merged');
      const io = captureIo();
      expect(await runCli(['merge', '--out', merged, ...shards.reverse()], io)).toBe(0);
      expect(readFileSync(join(merged, 'flagged.ndjson'), 'utf8')).toBe(
        readFileSync(join(single, 'flagged.ndjson'), 'utf8'),
      );
      const { shards: mergedShards, ...mergedRest } = readSummary(merged);
      const { shards: singleShards, ...singleRest } = readSummary(single);
      expect(mergedRest).toEqual(singleRest);
      expect({ mergedShards, singleShards }).toEqual({
        mergedShards: { count: 3, indexes: [0, 1, 2] },
        singleShards: { count: 1, indexes: [0] },
      });

      const partial = captureIo();
      expect(await runCli(['merge', '--out', join(root, 'partial'), shards[0]!], partial)).toBe(1);
      expect(partial.err()).toMatch(/shard\(s\) .* missing/);
    },
    TIMEOUT_MS,
  );

  test.each([
    ['not NDJSON', 'data.ndjson', 'this is not json\n', /data\.ndjson:2: not an NDJSON line/],
    [
      'a Bundle',
      'bundle.ndjson',
      '{"resourceType":"Bundle","type":"collection","entry":[]}\n',
      /bundle\.ndjson:2: a Bundle where Bulk Data NDJSON/,
    ],
    [
      'an unknown resource type',
      'odd.ndjson.gz',
      '{"resourceType":"Frobnicator","id":"x"}\n',
      /odd\.ndjson\.gz:2: unknown resource type 'Frobnicator'/,
    ],
  ])(
    'Bad input (%s) stops with one line naming file and line, exit 1',
    async (_name, file, bad, message) => {
      const dir = join(root, `bad-${file}`);
      mkdirSync(dir);
      const content = `{"resourceType":"Patient","id":"ok"}\n${bad}`;
      writeFileSync(join(dir, file), file.endsWith('.gz') ? gzipSync(content) : content);
      const run = await sweep([dir, '--out', join(dir, 'out'), '--quiet']);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(message);
      expect(run.err.trim().split('\n')).toHaveLength(1);
    },
    TIMEOUT_MS,
  );

  test.each([
    [['sweep', 'dir'], /--out is required/],
    [['sweep', 'dir', '--out', 'o', '--shard', '3/3'], /--shard must be I\/N/],
    [['sweep', 'dir', '--out', 'o', '--jobs', '0'], /--jobs must be/],
    [['merge', '--out', 'o'], /expected the output directories/],
  ])('Wrong usage %j exits 2', async (argv, message) => {
    const io = captureIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});

function loadDemoTemplates(): string[] {
  return loadDemoBundle(new Date(NOW))
    .entry.filter((e) => e.resource.resourceType === 'Patient')
    .map((e) => e.resource.id);
}

function templateBundle(template: string) {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: loadDemoBundle(new Date(NOW))
      .entry.filter(
        (e) =>
          e.resource.id === template ||
          (e.resource.subject as { reference?: string } | undefined)?.reference ===
            `Patient/${template}`,
      )
      .map((e) => ({ resource: e.resource })),
  };
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main.js';
import { CdsResponseSchema } from '../../../src/cds/schemas.js';
import { loadDemoBundle } from '../../../src/fhir-server/demo-bundle.js';
import { captureIo } from '../../support/cli-io.js';

const NOW = '2026-06-01T12:00:00.000Z';
const demo = loadDemoBundle(new Date(NOW));
const classic = {
  resourceType: 'Bundle',
  type: 'searchset',
  entry: demo.entry
    .filter(
      (e) =>
        e.resource.id === 'htc-demo-classic' ||
        (e.resource.subject as { reference?: string } | undefined)?.reference ===
          'Patient/htc-demo-classic',
    )
    .map((e) => ({ fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: e.resource })),
};

describe('hepatic-trends assess', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-assess-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, content: string): string {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  test('Reads the Bundle from standard input with "-" and prints a CDS Hooks response', async () => {
    const io = captureIo(JSON.stringify(classic));
    expect(await runCli(['assess', '-', '--now', NOW], io)).toBe(0);
    const response = CdsResponseSchema.parse(JSON.parse(io.out()));
    expect(response.cards.map((c) => c.indicator)).toEqual(['info']);
  });

  test('--format text prints one readable block per card with its indicator and suggestions', async () => {
    const io = captureIo();
    const file = write('classic.json', JSON.stringify(classic));
    expect(await runCli(['assess', file, '--now', NOW, '--format', 'text'], io)).toBe(0);
    expect(io.out()).toMatch(
      /^Patient\/htc-demo-classic, as of 2026-06-01T12:00:00\.000Z: 1 card\n/,
    );
    expect(io.out()).toMatch(/1\. \[INFO\] ALP 3\.\d×ULN and rising/);
    expect(io.out()).toMatch(/Suggestions:\n {3}- Abdominal ultrasound/);
  });

  test('References to the patient by urn:uuid fullUrl are followed, as in a transaction Bundle', async () => {
    const patientEntry = classic.entry.find((e) => e.resource.resourceType === 'Patient')!;
    const linked = {
      ...classic,
      entry: classic.entry.map((e) =>
        e.resource.resourceType === 'Patient'
          ? e
          : { ...e, resource: { ...e.resource, subject: { reference: patientEntry.fullUrl } } },
      ),
    };
    const io = captureIo(JSON.stringify(linked));
    expect(await runCli(['assess', '-', '--now', NOW], io)).toBe(0);
    expect(CdsResponseSchema.parse(JSON.parse(io.out())).cards).toHaveLength(1);
  });

  test('A drug named by reference is found through _include when the Bundle holds the Medication', async () => {
    const dili = demo.entry.filter(
      (e) =>
        e.resource.id === 'htc-demo-dili' ||
        (e.resource.subject as { reference?: string } | undefined)?.reference ===
          'Patient/htc-demo-dili',
    );
    const order = dili.find((e) => e.resource.resourceType === 'MedicationRequest')!.resource;
    const { medicationCodeableConcept, ...byReference } = order;
    const record = (withMedication: boolean) => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        ...dili.filter((e) => e.resource !== order).map((e) => ({ resource: e.resource })),
        { resource: { ...byReference, medicationReference: { reference: 'Medication/amx' } } },
        ...(withMedication
          ? [
              {
                resource: {
                  resourceType: 'Medication',
                  id: 'amx',
                  code: medicationCodeableConcept,
                },
              },
            ]
          : []),
      ],
    });
    const indicators = async (withMedication: boolean) => {
      const io = captureIo(JSON.stringify(record(withMedication)));
      expect(await runCli(['assess', '-', '--now', NOW], io)).toBe(0);
      return CdsResponseSchema.parse(JSON.parse(io.out()))
        .cards.map((c) => c.indicator)
        .sort();
    };
    expect(await indicators(true)).toEqual(['info', 'warning']);
    expect(await indicators(false)).toEqual(['info']);
  });

  test('--now moves the evaluation date: two years later the results are out of the look-back window', async () => {
    const io = captureIo(JSON.stringify(classic));
    expect(await runCli(['assess', '-', '--now', '2028-06-01T00:00:00Z'], io)).toBe(0);
    expect(CdsResponseSchema.parse(JSON.parse(io.out())).cards).toEqual([]);
  });

  test.each([
    [
      'not JSON',
      '{"resourceType":\n"Bundle",,}',
      /^hepatic-trends assess: .*bad\.json:2: not valid JSON/,
    ],
    [
      'not a Bundle',
      '{"resourceType":"Patient","id":"p"}',
      /bad\.json:1: expected a FHIR Bundle .*got a Patient/,
    ],
    [
      'several patients',
      JSON.stringify({ ...demo, type: 'collection' }),
      /holds 7 patients .*--patient/,
    ],
  ])(
    'Bad input (%s) gives one line naming the file and exit code 1',
    async (_name, content, message) => {
      const io = captureIo();
      const file = write('bad.json', content);
      expect(await runCli(['assess', file, '--now', NOW], io)).toBe(1);
      expect(io.err()).toMatch(message);
      expect(io.err().trim().split('\n')).toHaveLength(1);
      expect(io.out()).toBe('');
    },
  );

  test('A missing file is a one-line error with exit code 1', async () => {
    const io = captureIo();
    expect(await runCli(['assess', join(dir, 'absent.json')], io)).toBe(1);
    expect(io.err()).toMatch(/absent\.json: cannot read the file \(ENOENT\)\n$/);
  });

  test.each([
    [['assess'], /expected exactly one FILE\|-/],
    [['assess', 'a', 'b'], /expected exactly one FILE\|-/],
    [['assess', 'x', '--format', 'xml'], /--format must be json or text/],
    [['assess', 'x', '--now', '1 June'], /--now must be an ISO 8601/],
    [['assess', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /Usage: hepatic-trends <command>/],
  ])('Wrong usage %j exits 2 with a pointer to help', async (argv, message) => {
    const io = captureIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.err()).toMatch(message);
  });

  test.each([[['--help']], [['assess', '--help']]])('%j prints help and exits 0', async (argv) => {
    const io = captureIo();
    expect(await runCli(argv, io)).toBe(0);
    expect(io.out()).toMatch(/^Usage: hepatic-trends /);
  });
});

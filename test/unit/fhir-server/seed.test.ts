import express from 'express';
import { runSeedCli } from '../../../scripts/seed.js';
import type { CliIo } from '../../../scripts/seed.js';
import { loadDemoBundle } from '../../../src/fhir-server/demo-bundle.js';
import { listen, startEmbeddedFhirServer } from '../../e2e/helpers/listen.js';
import type { RunningFhirServer, RunningServer } from '../../e2e/helpers/listen.js';

// Indexing the FHIR R4 definitions takes seconds on a busy CI machine, beyond the default hook timeout.
const STARTUP_TIMEOUT_MS = 90_000;

const demoEntryCount = loadDemoBundle(new Date()).entry.length;

interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
}

function captureIo(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { log: (l) => out.push(l), error: (l) => err.push(l), now: new Date() }, out, err };
}

/** A loopback server that answers /metadata like FHIR and the transaction as the test says. */
async function startFakeFhir(onTransaction: express.RequestHandler): Promise<RunningServer> {
  const app = express();
  app.get('/fhir/metadata', (_req, res) => {
    res
      .type('application/fhir+json')
      .send({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
  });
  app.post('/fhir', express.json({ type: () => true, limit: '5mb' }), onTransaction);
  return listen(app);
}

describe('npm run seed', () => {
  let fhir: RunningFhirServer;

  beforeAll(async () => {
    fhir = await startEmbeddedFhirServer({ seedDemo: false });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await fhir.close();
  });

  test('When run against an empty FHIR server, uploads every demo patient, lists their ids and prints a curl that points at that server', async () => {
    const { io, out, err } = captureIo();

    const code = await runSeedCli(['--fhir-server', fhir.base, '--token', 'tok-1'], io);

    expect(err).toEqual([]);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`Done: ${demoEntryCount} resources written`);
    for (const id of ['htc-demo-classic', 'htc-demo-severe', 'htc-demo-control']) {
      expect(text).toContain(id);
    }
    expect(text).toContain(`"fhirServer":"${fhir.base}"`);
    expect(text).toContain('"access_token":"tok-1"');
    const patient = await fetch(`${fhir.base}/Patient/htc-demo-classic`);
    expect(patient.status).toBe(200);
    expect(
      fhir.requests
        .filter((r) => r.method === 'POST')
        .every((r) => r.authorization === 'Bearer tok-1'),
    ).toBe(true);
  });

  test('When run a second time, updates the same resources instead of adding copies', async () => {
    const before = await countObservations(fhir.base);
    const { io, out } = captureIo();

    const code = await runSeedCli(['--fhir-server', fhir.base], io);

    expect(code).toBe(0);
    expect(out.join('\n')).toContain(`Done: ${demoEntryCount} resources written`);
    expect(await countObservations(fhir.base)).toBe(before);
    expect(before).toBeGreaterThan(100);
  });

  test('When nothing listens at the address, exits 1 with one line saying the server cannot be reached', async () => {
    const closed = await listen(express());
    await closed.close();
    const { io, err } = captureIo();

    const code = await runSeedCli(['--fhir-server', `${closed.url}/fhir`], io);

    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(`Cannot reach the FHIR server at ${closed.url}/fhir`);
  });

  test('When the address serves a web page instead of FHIR, exits 1 saying it does not look like a FHIR server', async () => {
    const app = express();
    app.use((_req, res) => {
      res.type('html').send('<html><body>Welcome</body></html>');
    });
    const web = await listen(app);
    const { io, err } = captureIo();

    const code = await runSeedCli(['--fhir-server', web.url], io);
    await web.close();

    expect(code).toBe(1);
    expect(err[0]).toMatch(
      /does not look like a FHIR server: GET \/metadata answered HTTP 200 \(text\/html/,
    );
  });

  test('When the server rejects the Bundle with an OperationOutcome, exits 1 quoting its diagnostics', async () => {
    const hapi = await startFakeFhir((_req, res) => {
      res
        .status(400)
        .type('application/fhir+json')
        .send({
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'processing',
              diagnostics: 'HAPI-0450: Failed to parse request body',
            },
          ],
        });
    });
    const { io, err } = captureIo();

    const code = await runSeedCli(['--fhir-server', `${hapi.url}/fhir`], io);
    await hapi.close();

    expect(code).toBe(1);
    expect(err[0]).toBe(
      'seed: The server rejected the demo Bundle (HTTP 400): HAPI-0450: Failed to parse request body',
    );
  });

  test('When a HAPI-style server answers "201 Created" per entry, counts them as created', async () => {
    const hapi = await startFakeFhir((req, res) => {
      const entries: unknown[] = Array.isArray(req.body?.entry) ? req.body.entry : [];
      res.type('application/fhir+json').send({
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: entries.map((_e, i) => ({
          response: { status: '201 Created', location: `Observation/${1000 + i}/_history/1` },
        })),
      });
    });
    const { io, out } = captureIo();

    const code = await runSeedCli(['--fhir-server', `${hapi.url}/fhir`], io);
    await hapi.close();

    expect(code).toBe(0);
    expect(out.join('\n')).toContain(
      `(${demoEntryCount} created, 0 updated, as reported by the server)`,
    );
  });

  test('When one entry of a transaction fails, exits 1 naming the entry, since some servers keep the rest', async () => {
    const server = await startFakeFhir((req, res) => {
      const entries: unknown[] = Array.isArray(req.body?.entry) ? req.body.entry : [];
      res.type('application/fhir+json').send({
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: entries.map((_e, i) => ({
          response: { status: i === 1 ? '400 Bad Request' : '200 OK' },
        })),
      });
    });
    const { io, err } = captureIo();

    const code = await runSeedCli(['--fhir-server', `${server.url}/fhir`], io);
    await server.close();

    expect(code).toBe(1);
    expect(err[0]).toMatch(
      /rejected part of the demo Bundle \(1 of \d+ entries\): Condition\/htc-demo-classic-uc → 400/,
    );
  });

  test('When the server is still starting (503) and --wait is given, retries until it answers, then seeds', async () => {
    let metadataCalls = 0;
    const app = express();
    app.get('/fhir/metadata', (_req, res) => {
      metadataCalls += 1;
      if (metadataCalls === 1) {
        res.status(503).send('starting');
        return;
      }
      res
        .type('application/fhir+json')
        .send({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
    });
    app.post('/fhir', express.json({ type: () => true, limit: '5mb' }), (req, res) => {
      const entries: unknown[] = Array.isArray(req.body?.entry) ? req.body.entry : [];
      res.send({
        resourceType: 'Bundle',
        entry: entries.map(() => ({ response: { status: '200 OK' } })),
      });
    });
    const starting = await listen(app);
    const { io, out } = captureIo();

    const code = await runSeedCli(['--fhir-server', `${starting.url}/fhir`, '--wait', '20'], io);
    await starting.close();

    expect(code).toBe(0);
    expect(metadataCalls).toBe(2);
    expect(out.join('\n')).toContain('answered HTTP 503');
  });

  test('When --fhir-server is missing, prints the usage and exits 2', async () => {
    const { io, err } = captureIo();

    expect(await runSeedCli(['--token', 'x'], io)).toBe(2);
    expect(err[0]).toContain('usage: npm run seed -- --fhir-server <base-url>');
  });
});

async function countObservations(base: string): Promise<number> {
  const response = await fetch(`${base}/Observation?_summary=count`);
  const body: unknown = await response.json();
  return typeof body === 'object' &&
    body !== null &&
    'total' in body &&
    typeof body.total === 'number'
    ? body.total
    : -1;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services } from '../../hooks/index.js';
import { createApp } from '../../src/app.js';
import { runCli } from '../../src/cli/main.js';
import { CdsResponseSchema } from '../../src/cds/schemas.js';
import { loadConfig } from '../../src/config.js';
import { loadDemoBundle } from '../../src/fhir-server/demo-bundle.js';
import { InMemoryFeedbackStore } from '../../src/stores/feedback-store.js';
import { captureIo } from '../support/cli-io.js';
import { listen, startEmbeddedFhirServer } from './helpers/listen.js';
import type { RunningFhirServer, RunningServer } from './helpers/listen.js';

// `assess` must answer exactly as the service does when it searches a real FHIR server itself:
// the embedded server holds the demo patients, the command line gets each patient as one Bundle.

const STARTUP_TIMEOUT_MS = 90_000;
const NOW = new Date('2026-06-01T12:00:00Z');
const service = services[0]!;
const bundle = loadDemoBundle(NOW);
const patientIds = bundle.entry
  .filter((e) => e.resource.resourceType === 'Patient')
  .map((e) => e.resource.id);

/** Card content without the ids minted per call, so two calls can be compared. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutIds);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'uuid')
        .map(([key, v]) => [key, withoutIds(v)]),
    );
  }
  return value;
}

function isAbout(resource: Record<string, unknown>, patientId: string): boolean {
  const subject = resource.subject as { reference?: string } | undefined;
  return resource.id === patientId || subject?.reference === `Patient/${patientId}`;
}

describe('hepatic-trends assess gives the service’s own answer for every demo patient', () => {
  let fhir: RunningFhirServer;
  let cds: RunningServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-assess-'));
    fhir = await startEmbeddedFhirServer({ now: NOW });
    const config = loadConfig({ PORT: '0', EMBEDDED_FHIR: 'false', LOG_LEVEL: 'silent' });
    cds = await listen(
      createApp({ config, services, feedbackStore: new InMemoryFeedbackStore(), now: () => NOW }),
    );
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await cds.close();
    await fhir.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(patientIds)(
    'For %s, the command line prints the cards the service returns after searching the FHIR server',
    async (patientId) => {
      const response = await fetch(`${cds.url}/cds-services/${service.definition.id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          hook: 'patient-view',
          hookInstance: crypto.randomUUID(),
          fhirServer: fhir.base,
          context: { userId: 'Practitioner/e2e', patientId },
        }),
      });
      expect(response.status).toBe(200);
      const fromService = CdsResponseSchema.parse(await response.json());

      // The whole record, unfiltered, results oldest last: the command line must search and sort it
      // as the server did. Other resources keep their stored order, which unsorted searches return.
      const mine = bundle.entry.filter((e) => isAbout(e.resource, patientId));
      const record = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          ...mine.filter((e) => e.resource.resourceType !== 'Observation'),
          ...mine.filter((e) => e.resource.resourceType === 'Observation').reverse(),
        ].map((e) => ({ resource: e.resource })),
      };
      const file = join(dir, `${patientId}.json`);
      writeFileSync(file, JSON.stringify(record));
      const io = captureIo();
      const code = await runCli(['assess', file, '--now', NOW.toISOString()], io);

      expect({ code, stderr: io.err() }).toEqual({ code: 0, stderr: '' });
      const fromCli = CdsResponseSchema.parse(JSON.parse(io.out()));
      expect(withoutIds(fromCli)).toEqual(withoutIds(fromService));
      expect(fromCli.cards.length).toBe(fromService.cards.length);
    },
  );

  test('The demo set includes patients with cards, so the comparison is not between empty answers', () => {
    expect(patientIds.length).toBeGreaterThanOrEqual(6);
  });
});

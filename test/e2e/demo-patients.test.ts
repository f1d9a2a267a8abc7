import { z } from 'zod';
import { services } from '../../hooks/index.js';
import { assembleService } from '../../src/assemble-service.js';
import { CdsResponseSchema } from '../../src/cds/schemas.js';
import type { Card } from '../../src/cds/schemas.js';
import { loadConfig } from '../../src/config.js';
import { listDemoPatients, loadDemoBundle } from '../../src/fhir-server/demo-bundle.js';
import { listen, startEmbeddedFhirServer } from './helpers/listen.js';
import type { RunningFhirServer, RunningServer } from './helpers/listen.js';

// Indexing the FHIR R4 definitions takes seconds on a busy CI machine, beyond the default hook timeout.
const STARTUP_TIMEOUT_MS = 90_000;

// End to end: the real embedded FHIR server with the demo patients, the real service over HTTP, and each
// demo patient fired twice: once with no prefetch (the service fetches with the bearer token) and once
// with every prefetch key filled from the same server, as an EHR would.

const NOW = new Date();
const service = services[0]!;
const demoPatients = listDemoPatients(loadDemoBundle(NOW));

interface ExpectedCard {
  indicator: Card['indicator'];
  summary: RegExp;
  suggestions?: RegExp[];
  detail?: RegExp[];
}

/** The cards each demo patient must produce (demo/demo-patients.json says the same in words). */
const EXPECTED: Record<string, ExpectedCard[]> = {
  'htc-demo-classic': [
    {
      indicator: 'info',
      summary: /ALP 3\.\d×ULN and rising; ALT falling, AST falling: cholestatic shift/,
      suggestions: [/Abdominal ultrasound/, /MRCP/],
      detail: [/GGT is raised/, /1\. \*\*Primary sclerosing cholangitis\*\*/],
    },
  ],
  'htc-demo-severe': [
    {
      indicator: 'critical',
      summary: /ALP 1\d\.\d×ULN and rising.*Urgent evaluation/,
      suggestions: [/Abdominal ultrasound/],
      detail: [
        /above 10×ULN/,
        /Bilirubin is raised/,
        // A diagnosis on record is stated, not ranked as something to look for.
        /Already on record[^\n]*\n- \*\*Liver malignancy or liver metastases on record/,
      ],
    },
  ],
  // Cards come most urgent first (warning before info).
  'htc-demo-dili': [
    {
      indicator: 'warning',
      summary: /amoxicillin–clavulanate.*LiverTox/,
      detail: [/Age 60 or over/],
    },
    {
      indicator: 'info',
      summary: /ALP 3\.\d×ULN and rising.*cholestatic shift/,
      suggestions: [/Fractionate bilirubin/, /Abdominal ultrasound/],
      detail: [/1\. \*\*Drug-induced cholestasis\*\* \(on amoxicillin–clavulanate; age 68\)/],
    },
  ],
  'htc-demo-overlap': [
    { indicator: 'warning', summary: /azathioprine.*LiverTox/ },
    {
      indicator: 'info',
      summary: /ALP 3\.\d×ULN and rising.*cholestatic shift/,
      suggestions: [/Abdominal ultrasound/, /Autoimmune serology/],
      detail: [
        /Already on record[^\n]*\n- \*\*Autoimmune hepatitis on record; with PBC or PSC on record/,
      ],
    },
  ],
  'htc-demo-cirrhosis': [
    {
      indicator: 'info',
      summary: /ALP 1\.\d×ULN and rising.*cholestatic shift/,
      suggestions: [/Fractionate bilirubin/, /Abdominal ultrasound/],
      detail: [
        /AST\/ALT 1\.\d+/,
        /ratio of 1 or more/,
        /Already on record[^\n]*\n- \*\*Cirrhosis on record/,
      ],
    },
  ],
  'htc-demo-bone': [
    {
      indicator: 'info',
      summary:
        /ALP 2\.\d×ULN and rising, GGT normal \(0\.\d×ULN\): likely non-hepatic \(bone\) source/,
      suggestions: [/Bone-specific ALP/],
    },
  ],
  'htc-demo-control': [],
};

/** Card content without the ids minted per call (uuids, trend-link ids), so two calls can be compared. */
function withoutIds(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/\/trends\/[A-Za-z0-9_-]{32}$/, '/trends/<id>');
  }
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

const BundleLinkSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  link: z.array(z.object({ relation: z.string(), url: z.string() })).optional(),
  entry: z.array(z.unknown()).optional(),
});

/** Resolves the service's own prefetch templates against the FHIR server, following every next link. */
async function buildPrefetch(base: string, patientId: string): Promise<Record<string, unknown>> {
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(service.definition.prefetch ?? {})) {
    const query = template.replaceAll('{{context.patientId}}', patientId);
    const first: unknown = await (await fetch(`${base}/${query}`)).json();
    const page = BundleLinkSchema.safeParse(first);
    if (!page.success) {
      prefetch[key] = first;
      continue;
    }
    const entries = [...(page.data.entry ?? [])];
    let next = page.data.link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      const more = BundleLinkSchema.parse(await (await fetch(next)).json());
      entries.push(...(more.entry ?? []));
      next = more.link?.find((l) => l.relation === 'next')?.url;
    }
    prefetch[key] = { ...page.data, entry: entries, link: undefined };
  }
  return prefetch;
}

describe('Demo patients end to end: embedded FHIR server → CDS service over HTTP', () => {
  let fhir: RunningFhirServer;
  let cds: RunningServer;

  beforeAll(async () => {
    fhir = await startEmbeddedFhirServer({ now: NOW });
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      EMBEDDED_FHIR: 'false',
      LOG_LEVEL: 'silent',
    });
    const assembled = await assembleService(config, {
      services,
      now: () => NOW,
      processMetrics: false,
    });
    cds = await listen(assembled.app);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await cds.close();
    await fhir.close();
  });

  async function firePatientView(body: Record<string, unknown>): Promise<Card[]> {
    const response = await fetch(`${cds.url}/cds-services/${service.definition.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        hook: 'patient-view',
        hookInstance: crypto.randomUUID(),
        ...body,
      }),
    });
    const json: unknown = await response.json();
    expect({ status: response.status, body: json }).toMatchObject({ status: 200 });
    return CdsResponseSchema.parse(json).cards;
  }

  test('Every demo patient in the bundle has stated card expectations, and the demo has at least six', () => {
    expect(demoPatients.map((p) => p.id).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(demoPatients.length).toBeGreaterThanOrEqual(6);
  });

  test.each(demoPatients.map((p) => [p.id, p.scenario] as const))(
    'When patient-view fires for %s (%s), fetching and prefetch give the same expected cards',
    async (patientId) => {
      const token = `e2e-token-${patientId}`;
      const context = { userId: 'Practitioner/e2e', patientId };
      const seenBefore = fhir.requests.length;

      const fetched = await firePatientView({
        fhirServer: fhir.base,
        fhirAuthorization: {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'patient/*.read',
          subject: 'e2e-client',
        },
        context,
      });

      const calls = fhir.requests.slice(seenBefore);
      expect(calls.length).toBeGreaterThanOrEqual(
        Object.keys(service.definition.prefetch ?? {}).length,
      );
      expect(calls.every((c) => c.authorization === `Bearer ${token}`)).toBe(true);
      expect(calls.some((c) => c.url.includes('/fhir/Observation?'))).toBe(true);

      const expected = EXPECTED[patientId] ?? [];
      expect(fetched).toHaveLength(expected.length);
      expected.forEach((want, i) => {
        const card = fetched[i]!;
        expect(card.indicator).toBe(want.indicator);
        expect(card.summary).toMatch(want.summary);
        const labels = (card.suggestions ?? []).map((s) => s.label);
        for (const label of want.suggestions ?? []) {
          expect(labels.some((l) => label.test(l))).toBe(true);
        }
        for (const text of want.detail ?? []) {
          expect(card.detail ?? '').toMatch(text);
        }
      });

      const prefetch = await buildPrefetch(fhir.base, patientId);
      const seenBeforePrefetched = fhir.requests.length;
      const prefetched = await firePatientView({ context, prefetch });

      expect(fhir.requests.length).toBe(seenBeforePrefetched);
      expect(withoutIds(prefetched)).toEqual(withoutIds(fetched));
    },
  );
});

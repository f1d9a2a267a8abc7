import { Client } from 'fhir-kit-client';
import { z } from 'zod';
import { startEmbeddedFhirServer } from '../../e2e/helpers/listen.js';
import type { RunningFhirServer } from '../../e2e/helpers/listen.js';

// Indexing the FHIR R4 definitions takes seconds on a busy CI machine, beyond the default hook timeout.
const STARTUP_TIMEOUT_MS = 90_000;

const LOINC = 'http://loinc.org';
const ALP = `${LOINC}|6768-6`;
const ALT = `${LOINC}|1742-6`;
const CLASSIC = 'htc-demo-classic';

const ObservationSchema = z.looseObject({
  resourceType: z.literal('Observation'),
  id: z.string(),
  effectiveDateTime: z.string(),
  code: z.object({ coding: z.array(z.object({ system: z.string(), code: z.string() })) }),
  subject: z.object({ reference: z.string() }),
});
const SearchsetSchema = z.object({
  resourceType: z.literal('Bundle'),
  type: z.literal('searchset'),
  total: z.number().optional(),
  link: z.array(z.object({ relation: z.string(), url: z.string() })),
  entry: z
    .array(
      z.object({
        fullUrl: z.string(),
        search: z.object({ mode: z.enum(['match', 'include']) }),
        resource: z.looseObject({ resourceType: z.string(), id: z.string() }),
      }),
    )
    .optional(),
});
type Searchset = z.infer<typeof SearchsetSchema>;

function observationsOf(bundle: Searchset): z.infer<typeof ObservationSchema>[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => ObservationSchema.parse(e.resource));
}

function codeOf(obs: z.infer<typeof ObservationSchema>): string {
  return obs.code.coding[0]?.code ?? '';
}

describe('Embedded FHIR server', () => {
  let fhir: RunningFhirServer;
  let client: Client;

  beforeAll(async () => {
    fhir = await startEmbeddedFhirServer();
    client = new Client({
      baseUrl: fhir.base,
      customHeaders: { Authorization: 'Bearer anything' },
    });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await fhir.close();
  });

  async function search(
    resourceType: string,
    searchParams: Record<string, string>,
  ): Promise<Searchset> {
    return SearchsetSchema.parse(await client.search({ resourceType, searchParams }));
  }

  test('When a search has more matches than _count, next links built on the base URL lead through every page to the last, which has none', async () => {
    const params = { patient: `Patient/${CLASSIC}`, _count: '4', _sort: '-date' };
    const all = await search('Observation', { ...params, _count: '1000' });
    let page = await search('Observation', params);
    const seen: string[] = [];
    let pages = 0;
    for (;;) {
      pages += 1;
      expect(page.entry?.length ?? 0).toBeLessThanOrEqual(4);
      for (const entry of page.entry ?? []) {
        seen.push(entry.resource.id);
        expect(entry.fullUrl).toBe(`${fhir.base}/Observation/${entry.resource.id}`);
      }
      const next = page.link.find((l) => l.relation === 'next');
      if (!next) {
        break;
      }
      expect(next.url.startsWith(`${fhir.base}/Observation?`)).toBe(true);
      const nextPage = client.nextPage({ bundle: page });
      expect(nextPage).toBeDefined();
      page = SearchsetSchema.parse(await nextPage);
    }
    expect(seen).toEqual(observationsOf(all).map((o) => o.id));
    expect(pages).toBe(Math.ceil(seen.length / 4));
    expect(page.link.some((l) => l.relation === 'previous')).toBe(true);
  });

  test('When no _count is given, returns at most 20 entries and says how many matched', async () => {
    const bundle = await search('Observation', {});

    expect(bundle.entry).toHaveLength(20);
    expect(bundle.total).toBeGreaterThan(20);
    expect(bundle.link.map((l) => l.relation)).toEqual(['self', 'next']);
  });

  test('When code lists two LOINC codes separated by a comma, returns results of either code and no other', async () => {
    const bundle = await search('Observation', {
      patient: CLASSIC,
      code: `${ALP},${ALT}`,
      _count: '100',
    });

    const codes = new Set(observationsOf(bundle).map(codeOf));
    expect(codes).toEqual(new Set(['6768-6', '1742-6']));
    const alpOnly = await search('Observation', { patient: CLASSIC, code: ALP, _count: '100' });
    const altOnly = await search('Observation', { patient: CLASSIC, code: ALT, _count: '100' });
    expect(bundle.total).toBe((alpOnly.total ?? 0) + (altOnly.total ?? 0));
  });

  test('When sorted by -date, returns the newest result first', async () => {
    const bundle = await search('Observation', { patient: CLASSIC, code: ALP, _sort: '-date' });

    const dates = observationsOf(bundle).map((o) => o.effectiveDateTime);
    expect(dates.length).toBeGreaterThanOrEqual(4);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  test('When sorted by date then code, date is the primary key', async () => {
    const bundle = await search('Observation', {
      patient: CLASSIC,
      _sort: 'date,code',
      _count: '100',
    });

    const rows = observationsOf(bundle).map((o) => `${o.effectiveDateTime} ${codeOf(o)}`);
    expect(rows).toEqual([...rows].sort());
  });

  test('When filtered with date=ge, returns only results on or after that day, and fewer than without the filter', async () => {
    const all = await search('Observation', { patient: CLASSIC, code: ALP });
    const dates = observationsOf(all)
      .map((o) => o.effectiveDateTime)
      .sort();
    const cutoff = (dates[2] ?? '').slice(0, 10);

    const filtered = await search('Observation', {
      patient: CLASSIC,
      code: ALP,
      date: `ge${cutoff}`,
    });

    const kept = observationsOf(filtered).map((o) => o.effectiveDateTime);
    expect(kept.length).toBe(dates.filter((d) => d.slice(0, 10) >= cutoff).length);
    expect(kept.length).toBeLessThan(dates.length);
    expect(kept.every((d) => d.slice(0, 10) >= cutoff)).toBe(true);
  });

  test('When the patient is given as a bare id, finds the same results as Patient/<id>', async () => {
    const bare = await search('Observation', { patient: CLASSIC, _count: '100' });
    const qualified = await search('Observation', { patient: `Patient/${CLASSIC}`, _count: '100' });
    const typedModifier = await search('Observation', {
      'subject:Patient': CLASSIC,
      _count: '100',
    });

    expect(bare.total).toBeGreaterThan(0);
    expect(observationsOf(bare).map((o) => o.id)).toEqual(
      observationsOf(qualified).map((o) => o.id),
    );
    expect(typedModifier.total).toBe(bare.total);
    expect(observationsOf(bare).every((o) => o.subject.reference === `Patient/${CLASSIC}`)).toBe(
      true,
    );
  });

  test('When asked for /metadata, returns an R4 CapabilityStatement listing only the search parameters it can evaluate', async () => {
    const statement = z
      .object({
        resourceType: z.literal('CapabilityStatement'),
        fhirVersion: z.string(),
        rest: z.array(
          z.object({
            resource: z.array(
              z.object({ type: z.string(), searchParam: z.array(z.object({ name: z.string() })) }),
            ),
          }),
        ),
      })
      .parse(await client.capabilityStatement());

    expect(statement.fhirVersion).toBe('4.0.1');
    const observation = statement.rest[0]?.resource.find((r) => r.type === 'Observation');
    const names = observation?.searchParam.map((p) => p.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(['patient', 'code', 'date', 'subject', 'category', 'status']),
    );
    expect(names).not.toContain('value-quantity');
  });

  test.each([
    ['an unknown parameter', 'foo=bar', /Unknown search parameter "foo"/],
    [
      'a quantity parameter the in-memory matcher cannot evaluate',
      'value-quantity=gt100',
      /not supported/,
    ],
    ['a token modifier it would silently get wrong', 'code:text=phosphatase', /not supported/],
    ['an unknown _sort key', '_sort=nonsense', /_sort parameter "nonsense"/],
    ['a chained parameter', 'subject.name=Maya', /Unknown search parameter "subject.name"/],
  ])(
    'When the search uses %s, answers 400 with an OperationOutcome instead of an empty page',
    async (_what, query, text) => {
      const response = await fetch(`${fhir.base}/Observation?${query}`);
      const body = z
        .object({
          resourceType: z.literal('OperationOutcome'),
          issue: z.array(z.object({ details: z.object({ text: z.string() }) })),
        })
        .parse(await response.json());

      expect(response.status).toBe(400);
      expect(body.issue[0]?.details.text).toMatch(text);
    },
  );

  test('When the search is POSTed as a form to _search, answers like the GET search', async () => {
    const response = await fetch(`${fhir.base}/Observation/_search?_count=100`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ patient: CLASSIC, code: ALP }).toString(),
    });
    const posted = SearchsetSchema.parse(await response.json());
    const got = await search('Observation', { patient: CLASSIC, code: ALP, _count: '100' });

    expect(response.status).toBe(200);
    expect(
      observationsOf(posted)
        .map((o) => o.id)
        .sort(),
    ).toEqual(
      observationsOf(got)
        .map((o) => o.id)
        .sort(),
    );
  });

  test('When MedicationRequests are searched with _include of the patient, adds the Patient as an include entry', async () => {
    const bundle = await search('MedicationRequest', {
      patient: 'htc-demo-dili',
      status: 'active',
      _include: 'MedicationRequest:patient',
    });

    const modes = (bundle.entry ?? []).map((e) => `${e.search.mode}:${e.resource.resourceType}`);
    expect(modes).toEqual(['match:MedicationRequest', 'include:Patient']);
  });

  test('When a resource does not exist, answers 404 with an OperationOutcome', async () => {
    const response = await fetch(`${fhir.base}/Patient/no-such-patient`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  test('When demo dates are computed, the newest results are days old, not stale, whatever today is', async () => {
    const bundle = await search('Observation', { patient: CLASSIC, _sort: '-date', _count: '1' });
    const newest = observationsOf(bundle)[0]?.effectiveDateTime ?? '';
    const ageDays = (Date.now() - Date.parse(newest)) / 86_400_000;

    expect(ageDays).toBeGreaterThan(0);
    expect(ageDays).toBeLessThan(60);
  });
});

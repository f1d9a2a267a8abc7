import { readFileSync } from 'node:fs';
import {
  CardSchema,
  CdsRequestSchema,
  CdsResponseSchema,
  DiscoveryResponseSchema,
  FeedbackSchema,
  PatientViewContextSchema,
  PrefetchValueSchema,
  stripEmpty,
  toSpecJson,
  type Card,
} from '../../../src/cds/schemas.js';
import { buildCdsRequest } from '../../fixtures/cds-request.js';

function readExample(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/spec-examples/${name}`, import.meta.url), 'utf8'),
  );
}

function buildCard(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
    summary: 'ALP is rising while ALT and AST fall',
    indicator: 'warning',
    source: { label: 'Hepatic Trends CDS' },
    ...overrides,
  };
}

function issuesOf(result: { success: boolean; error?: { issues: unknown[] } }): unknown[] {
  return result.error?.issues ?? [];
}

describe('CDS Hooks 2.0 examples from the specification', () => {
  test.each([
    ['discovery-response.json', DiscoveryResponseSchema],
    ['patient-view-request.json', CdsRequestSchema],
    ['request-with-extension.json', CdsRequestSchema],
    ['response.json', CdsResponseSchema],
    ['no-advice-response.json', CdsResponseSchema],
    ['feedback-accepted.json', FeedbackSchema],
    ['feedback-overridden.json', FeedbackSchema],
    ['feedback-overridden-with-reason.json', FeedbackSchema],
  ] as const)('%s parses with our schema', (file, schema) => {
    const result = schema.safeParse(readExample(file));

    expect(issuesOf(result)).toEqual([]);
  });

  test('Every value of the example prefetch data is a resource, a Bundle or null', () => {
    const prefetch = readExample('prefetch-data.json');
    const values = typeof prefetch === 'object' && prefetch !== null ? Object.values(prefetch) : [];

    expect(values).toHaveLength(3);
    expect(values.map((value) => PrefetchValueSchema.safeParse(value).success)).toEqual([
      true,
      true,
      true,
    ]);
  });

  test('The patient-view context of the example request satisfies the hook definition', () => {
    const request = CdsRequestSchema.parse(readExample('patient-view-request.json'));

    expect(PatientViewContextSchema.parse(request.context)).toEqual({
      userId: 'Practitioner/example',
      patientId: '1288992',
      encounterId: '89284',
    });
  });
});

describe('CdsRequestSchema', () => {
  test('The curl example request of the README is a valid patient-view call', () => {
    const raw: unknown = JSON.parse(
      readFileSync(new URL('../../fixtures/patient-view-request.json', import.meta.url), 'utf8'),
    );

    const request = CdsRequestSchema.parse(raw);

    expect(request.prefetch).toBeUndefined();
    expect(PatientViewContextSchema.parse(request.context).patientId).toBe('htc-demo-classic');
  });

  test('When fhirAuthorization is sent without fhirServer, names fhirServer as required', () => {
    const request: Record<string, unknown> = { ...buildCdsRequest() };
    delete request.fhirServer;

    const result = CdsRequestSchema.safeParse(request);

    expect(issuesOf(result)).toEqual([
      expect.objectContaining({
        path: ['fhirServer'],
        message: 'is required when fhirAuthorization is present',
      }),
    ]);
  });

  test.each([
    [{ hookInstance: 'not-a-uuid' }, ['hookInstance'], 'must be a UUID'],
    [{ fhirServer: 'ftp://ehr.example.org' }, ['fhirServer'], 'must be an absolute http(s) URL'],
    [
      { fhirAuthorization: { ...buildCdsRequest().fhirAuthorization!, token_type: 'MAC' } },
      ['fhirAuthorization', 'token_type'],
      "must be 'Bearer'",
    ],
    [
      { prefetch: { patient: { id: 'no-type' } } },
      ['prefetch', 'patient'],
      'must be a FHIR resource (a JSON object with a string resourceType)',
    ],
  ])('When given %j, reports the field and the problem', (override, path, message) => {
    const result = CdsRequestSchema.safeParse({ ...buildCdsRequest(), ...override });

    expect(issuesOf(result)).toEqual([expect.objectContaining({ path, message })]);
  });

  test('A prefetch key of null is accepted as "no data"', () => {
    const result = CdsRequestSchema.safeParse(buildCdsRequest({ prefetch: { patient: null } }));

    expect(result.success).toBe(true);
  });

  test('A patient-view userId that is not a typed reference is refused', () => {
    const result = PatientViewContextSchema.safeParse({ userId: 'example', patientId: '1' });

    expect(issuesOf(result)).toEqual([expect.objectContaining({ path: ['userId'] })]);
  });
});

describe('CardSchema', () => {
  test('A summary of 140 characters is refused; 139 is accepted', () => {
    expect(CardSchema.safeParse(buildCard({ summary: 'x'.repeat(139) })).success).toBe(true);
    expect(issuesOf(CardSchema.safeParse(buildCard({ summary: 'x'.repeat(140) })))).toEqual([
      expect.objectContaining({
        path: ['summary'],
        message: 'must be shorter than 140 characters',
      }),
    ]);
  });

  test('Suggestions without selectionBehavior are refused', () => {
    const card = buildCard({ suggestions: [{ label: 'Order GGT' }] });

    expect(issuesOf(CardSchema.safeParse(card))).toEqual([
      expect.objectContaining({ path: ['selectionBehavior'] }),
    ]);
  });

  test.each([
    ['an upper-case uuid', { uuid: '4E0A3A1E-3283-4575-AB82-028D55FE2719' }, ['uuid']],
    ['an indicator from an old draft', { indicator: 'hard-stop' }, ['indicator']],
    ['a source without label', { source: { url: 'https://example.org' } }, ['source', 'label']],
    [
      'an override reason without display',
      { overrideReasons: [{ system: 'urn:x', code: 'a' }] },
      ['overrideReasons', 0, 'display'],
    ],
    [
      'appContext on an absolute link',
      { links: [{ label: 'L', url: 'https://example.org', type: 'absolute', appContext: 'x' }] },
      ['links', 0, 'appContext'],
    ],
    [
      'a create action without a resource',
      {
        selectionBehavior: 'any',
        suggestions: [{ label: 'Order', actions: [{ type: 'create', description: 'Order GGT' }] }],
      },
      ['suggestions', 0, 'actions', 0, 'resource'],
    ],
    [
      'an action without description',
      {
        selectionBehavior: 'any',
        suggestions: [
          { label: 'Order', actions: [{ type: 'create', resource: { resourceType: 'X' } }] },
        ],
      },
      ['suggestions', 0, 'actions', 0, 'description'],
    ],
  ])('A card with %s is refused at the offending field', (_name, override, path) => {
    expect(issuesOf(CardSchema.safeParse(buildCard(override)))).toEqual([
      expect.objectContaining({ path }),
    ]);
  });
});

describe('FeedbackSchema', () => {
  test('An accepted outcome without acceptedSuggestions is refused', () => {
    const result = FeedbackSchema.safeParse({
      feedback: [
        {
          card: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
          outcome: 'accepted',
          outcomeTimestamp: '2020-12-11T00:00:00Z',
        },
      ],
    });

    expect(issuesOf(result)).toEqual([
      expect.objectContaining({ path: ['feedback', 0, 'acceptedSuggestions'] }),
    ]);
  });

  test('An outcome timestamp that is not ISO 8601 is refused', () => {
    const result = FeedbackSchema.safeParse({
      feedback: [
        {
          card: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
          outcome: 'overridden',
          outcomeTimestamp: '11/12/2020',
        },
      ],
    });

    expect(issuesOf(result)).toEqual([
      expect.objectContaining({ path: ['feedback', 0, 'outcomeTimestamp'] }),
    ]);
  });
});

describe('toSpecJson', () => {
  test('Removes null, empty strings, arrays and objects at any depth but keeps an empty card list', () => {
    expect(toSpecJson({ cards: [] })).toEqual({ cards: [] });

    const card = {
      ...buildCard(),
      detail: '',
      links: [],
      suggestions: [{ label: 'Order GGT', actions: [], uuid: null }],
      selectionBehavior: 'any',
      source: { label: 'Hepatic Trends CDS', topic: {}, url: undefined },
    } as unknown as Card;

    expect(toSpecJson({ cards: [card], systemActions: [] })).toEqual({
      cards: [
        {
          ...buildCard(),
          suggestions: [{ label: 'Order GGT' }],
          selectionBehavior: 'any',
        },
      ],
    });
  });

  test('Keeps false and 0, which are values rather than absences', () => {
    expect(stripEmpty({ isRecommended: false, count: 0, nested: { a: null } })).toEqual({
      isRecommended: false,
      count: 0,
    });
  });
});

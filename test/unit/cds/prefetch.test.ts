import {
  findInvalidTokens,
  isReadQuery,
  resolvePrefetchTemplate,
} from '../../../src/cds/prefetch.js';

const context = {
  userId: 'Practitioner/abc',
  patientId: '1288992',
  encounterId: '89284',
  nested: { id: 'x' },
};

describe('resolvePrefetchTemplate', () => {
  test.each([
    ['Patient/{{context.patientId}}', 'Patient/1288992'],
    [
      'Observation?patient={{context.patientId}}&code=4548-4&_count=1',
      'Observation?patient=1288992&code=4548-4&_count=1',
    ],
    ['{{context.userId}}', 'Practitioner/abc'],
    ['Practitioner/{{userPractitionerId}}', 'Practitioner/abc'],
    ['Encounter/{{ context.encounterId }}', 'Encounter/89284'],
  ])('%s becomes %s', (template, expected) => {
    expect(resolvePrefetchTemplate(template, context)).toEqual({ kind: 'query', query: expected });
  });

  test('A value that contains query syntax is encoded and cannot add parameters', () => {
    const resolved = resolvePrefetchTemplate('Condition?patient={{context.patientId}}', {
      patientId: '1&_has:Group:member:_id=all',
    });

    expect(resolved).toEqual({
      kind: 'query',
      query: 'Condition?patient=1%26_has%3AGroup%3Amember%3A_id%3Dall',
    });
  });

  test.each([
    ['Patient/{{context.patientId}}', '../Group/1'],
    ['Patient/{{context.patientId}}', '..'],
    ['Patient/{{context.patientId}}/_history', 'a b'],
    ['{{context.patientId}}', 'Patient/../../metadata'],
  ])('In the path, %s with %j is refused as an invalid value', (template, patientId) => {
    expect(resolvePrefetchTemplate(template, { patientId })).toEqual({
      kind: 'invalid-value',
      token: 'context.patientId',
    });
  });

  test('A user token whose id is not a FHIR id has no value', () => {
    expect(
      resolvePrefetchTemplate('Practitioner/{{userPractitionerId}}', {
        userId: 'Practitioner/..',
      }),
    ).toMatchObject({ kind: 'no-value' });
  });

  test.each([
    ['a user token of another resource type', 'PractitionerRole?_id={{userPractitionerRoleId}}'],
    ['an optional context field that is absent', 'Encounter/{{context.locationId}}'],
    ['a context field that is an object', 'Patient/{{context.nested}}'],
  ])('With %s, reports that the token has no value', (_name, template) => {
    expect(resolvePrefetchTemplate(template, context)).toMatchObject({ kind: 'no-value' });
  });
});

describe('findInvalidTokens', () => {
  test('Accepts context fields and the four user tokens, and names anything else', () => {
    expect(
      findInvalidTokens(
        '{{context.patientId}} {{userPractitionerId}} {{userPractitionerRoleId}} {{userPatientId}} {{userRelatedPersonId}}',
      ),
    ).toEqual([]);
    expect(findInvalidTokens('Patient/{{context.patient.id}}&x={{today}}&y={{toString}}')).toEqual([
      'context.patient.id',
      'today',
      'toString',
    ]);
  });
});

describe('isReadQuery', () => {
  test.each([
    ['Patient/123', true],
    ['Practitioner/abc-1.2', true],
    ['Observation?patient=123', false],
    ['Observation', false],
    ['Patient/123/_history/1', false],
  ])('%s is a read: %s', (query, expected) => {
    expect(isReadQuery(query)).toBe(expected);
  });
});

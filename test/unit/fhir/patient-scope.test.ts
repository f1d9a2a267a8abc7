import { belongsToPatient, scopeToPatient } from '../../../src/fhir/patient-scope.js';

const scope = { patientId: 'p1', fhirServer: 'https://ehr.example.org/fhir' };

function observation(id: string, subject?: fhir4.Reference): fhir4.Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { text: 'ALP' },
    ...(subject === undefined ? {} : { subject }),
  };
}

function bundle(...resources: fhir4.FhirResource[]): fhir4.Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.map((resource) => ({
      fullUrl: `https://ehr.example.org/fhir/${resource.resourceType}/${resource.id ?? ''}`,
      resource,
    })),
  };
}

function idsOf(value: fhir4.Resource | null): string[] {
  return value?.resourceType === 'Bundle'
    ? ((value as fhir4.Bundle).entry ?? []).map((e) => e.resource?.id ?? '')
    : [];
}

describe('scopeToPatient', () => {
  test.each([
    ['Patient/p1', true],
    ['Patient/p1/_history/7', true],
    ['https://ehr.example.org/fhir/Patient/p1', true],
    ['https://ehr.example.org/fhir/Patient/p1/', false],
    ['https://other.example.org/fhir/Patient/p1', false],
    ['Patient/p10', false],
    ['Patient/xp1', false],
    ['Patient/p1?x=1', false],
    ['#p1', false],
    ['p1', false],
  ])('A subject reference %s is this patient: %s', (reference, expected) => {
    expect(belongsToPatient(observation('o', { reference }), scope)).toBe(expected);
  });

  test('A reference by identifier only names nobody we can check, and is dropped', () => {
    const byIdentifier = observation('o', { identifier: { system: 'urn:mrn', value: 'p1' } });

    expect(belongsToPatient(byIdentifier, scope)).toBe(false);
  });

  test('Both subject and patient must name the patient when both are present', () => {
    const allergy = {
      resourceType: 'AllergyIntolerance',
      id: 'a',
      patient: { reference: 'Patient/p1' },
      subject: { reference: 'Patient/p2' },
    } as unknown as fhir4.AllergyIntolerance;

    expect(belongsToPatient(allergy, scope)).toBe(false);
  });

  test('An included Patient of someone else is dropped from a Bundle; shared reference data stays', () => {
    const result = scopeToPatient(
      bundle(
        observation('mine', { reference: 'Patient/p1' }),
        observation('theirs', { reference: 'Patient/p2' }),
        { resourceType: 'Patient', id: 'p2' },
        { resourceType: 'Patient', id: 'p1' },
        { resourceType: 'Practitioner', id: 'dr' },
        observation('nobodys'),
      ),
      scope,
    );

    expect(idsOf(result.value)).toEqual(['mine', 'p1', 'dr']);
    expect(result.dropped).toBe(3);
  });

  test('A Medication stays when a kept request names it by id or full URL, and goes otherwise', () => {
    const request = (id: string, patient: string, medication: string): fhir4.MedicationRequest => ({
      resourceType: 'MedicationRequest',
      id,
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${patient}` },
      medicationReference: { reference: medication },
    });
    const medication = (id: string): fhir4.Medication => ({ resourceType: 'Medication', id });

    const result = scopeToPatient(
      bundle(
        request('r1', 'p1', 'Medication/m1'),
        request('r2', 'p1', 'https://ehr.example.org/fhir/Medication/m2'),
        request('r3', 'p2', 'Medication/m3'),
        medication('m1'),
        medication('m2'),
        medication('m3'),
        medication('m4'),
      ),
      scope,
    );

    expect(idsOf(result.value)).toEqual(['r1', 'r2', 'm1', 'm2']);
    expect(result.dropped).toBe(3);
  });

  test('A single resource of another patient becomes null; an untouched Bundle is returned as is', () => {
    const mine = bundle(observation('mine', { reference: 'Patient/p1' }));

    expect(scopeToPatient({ resourceType: 'Patient', id: 'p2' }, scope)).toEqual({
      value: null,
      dropped: 1,
    });
    expect(scopeToPatient(mine, scope).value).toBe(mine);
    expect(scopeToPatient(null, scope)).toEqual({ value: null, dropped: 0 });
  });
});

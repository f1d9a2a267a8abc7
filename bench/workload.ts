import { randomUUID } from 'node:crypto';

/*
 * The request load used by the HTTP benchmarks and the soak script: one patient-view call with
 * every prefetch key of the liver-trends service filled, as an EHR that prefetches would send it.
 * Six months of fortnightly liver panels in which ALP climbs while ALT and AST settle, so the
 * service does its full work (trends, R ratio, severity, cards).
 */

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const DAY_MS = 86_400_000;

export const WORKLOAD_NOW = new Date('2026-06-01T12:00:00.000Z');
export const WORKLOAD_PATIENT_ID = 'bench-patient-1';

const PANELS = [
  { loinc: '6768-6', unit: 'U/L', uln: 120, from: 130, to: 460 },
  { loinc: '1742-6', unit: 'U/L', uln: 40, from: 410, to: 70 },
  { loinc: '1920-8', unit: 'U/L', uln: 40, from: 380, to: 60 },
  { loinc: '2324-2', unit: 'U/L', uln: 40, from: 150, to: 330 },
  { loinc: '1975-2', unit: 'mg/dL', uln: 1.2, from: 1.0, to: 1.6 },
  { loinc: '1968-7', unit: 'mg/dL', uln: 0.3, from: 0.2, to: 0.5 },
] as const;
const DRAWS = 13;

function buildLabs(patientId: string, now: Date): fhir4.Observation[] {
  const labs: fhir4.Observation[] = [];
  for (const panel of PANELS) {
    for (let i = 0; i < DRAWS; i += 1) {
      const value = panel.from + ((panel.to - panel.from) * i) / (DRAWS - 1);
      labs.push({
        resourceType: 'Observation',
        id: `obs-${panel.loinc}-${i}`,
        status: 'final',
        category: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/observation-category',
                code: 'laboratory',
              },
            ],
          },
        ],
        code: { coding: [{ system: LOINC, code: panel.loinc }] },
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: new Date(now.getTime() - (170 - i * 14) * DAY_MS).toISOString(),
        valueQuantity: {
          value: Math.round(value * 10) / 10,
          unit: panel.unit,
          system: UCUM,
          code: panel.unit,
        },
        referenceRange: [
          { high: { value: panel.uln, unit: panel.unit, system: UCUM, code: panel.unit } },
        ],
      });
    }
  }
  return labs.reverse();
}

function searchset(resources: fhir4.FhirResource[]): fhir4.Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
  };
}

/** Dates are placed relative to `now`, which must be the service's clock. */
export function buildWorkloadPrefetch(
  patientId = WORKLOAD_PATIENT_ID,
  now = WORKLOAD_NOW,
): Record<string, fhir4.FhirResource> {
  return {
    patient: { resourceType: 'Patient', id: patientId, gender: 'female', birthDate: '1958-04-02' },
    labs: searchset(buildLabs(patientId, now)),
    conditions: searchset([
      {
        resourceType: 'Condition',
        id: 'cond-1',
        subject: { reference: `Patient/${patientId}` },
        code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'K74.60' }] },
        clinicalStatus: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' },
          ],
        },
      },
    ]),
    medications: searchset([]),
    medicationStatements: searchset([]),
    imaging: searchset([]),
  };
}

/** A patient-view body; with `fhirServer` and no prefetch, the service fetches everything. */
export function buildWorkloadBody(
  options: { prefetch?: boolean; fhirServer?: string; patientId?: string; now?: Date } = {},
): Record<string, unknown> {
  const patientId = options.patientId ?? WORKLOAD_PATIENT_ID;
  const body: Record<string, unknown> = {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/bench', patientId },
  };
  if (options.prefetch ?? true) {
    body.prefetch = buildWorkloadPrefetch(patientId, options.now);
  }
  if (options.fhirServer !== undefined) {
    body.fhirServer = options.fhirServer;
    body.fhirAuthorization = {
      access_token: 'bench-token',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'patient/*.read',
      subject: 'hepatic-trends-cds',
    };
  }
  return body;
}

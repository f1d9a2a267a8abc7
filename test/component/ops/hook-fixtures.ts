import { randomUUID } from 'node:crypto';
import { FIXED_NOW, buildLabSeries } from '../../fixtures/observation.js';
import { buildPatient } from '../../fixtures/patient.js';

function searchset(resources: fhir4.FhirResource[]): fhir4.Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({
      fullUrl: `http://fhir.test/${resource.resourceType}/${resource.id ?? ''}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}

/** Six months of a cholestatic shift: ALP climbing while ALT and AST settle. */
export function buildDivergentLabs(): fhir4.Observation[] {
  return [
    ...buildLabSeries({ analyte: 'ALP', values: [130, 180, 240, 310, 390, 460], refHigh: 120 }),
    ...buildLabSeries({ analyte: 'ALT', values: [410, 300, 210, 150, 95, 70], refHigh: 40 }),
    ...buildLabSeries({ analyte: 'AST', values: [380, 280, 190, 130, 90, 60], refHigh: 40 }),
    ...buildLabSeries({ analyte: 'GGT', values: [200, 260, 330], refHigh: 40 }),
  ];
}

/** Every prefetch key the liver-trends service declares, filled as an EHR would. */
export function buildFullPrefetch(labs = buildDivergentLabs()): Record<string, fhir4.Resource> {
  return {
    patient: buildPatient({ id: 'pat-1' }),
    labs: searchset(labs),
    conditions: searchset([]),
    medications: searchset([]),
    medicationStatements: searchset([]),
    imaging: searchset([]),
  };
}

export interface HookBodyOptions {
  prefetch?: Record<string, fhir4.Resource> | undefined;
  fhirServer?: string;
  accessToken?: string;
}

/** A patient-view request body. */
export function buildPatientViewBody(options: HookBodyOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/prac-1', patientId: 'pat-1' },
  };
  if (options.prefetch !== undefined) {
    body.prefetch = options.prefetch;
  }
  if (options.fhirServer !== undefined) {
    body.fhirServer = options.fhirServer;
    if (options.accessToken !== undefined) {
      body.fhirAuthorization = {
        access_token: options.accessToken,
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'patient/Patient.read patient/Observation.read',
        subject: 'hepatic-trends-cds',
      };
    }
  }
  return body;
}

export { FIXED_NOW };

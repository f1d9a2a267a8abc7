/**
 * The demo bearer token sent as `fhirAuthorization` in example requests. The embedded FHIR server accepts
 * any token and checks none; a real FHIR server would reject this one.
 */
export const DEMO_ACCESS_TOKEN = 'demo-token-not-checked';

export interface PatientViewCurlOptions {
  /** Base URL of this CDS service, e.g. `http://localhost:3000`. */
  serviceBaseUrl: string;
  serviceId: string;
  fhirServer: string;
  patientId: string;
  accessToken?: string;
}

/**
 * A ready-to-paste `curl` that fires `patient-view` without prefetch, so the service fetches the
 * patient's data from `fhirServer` itself, with the bearer token from `fhirAuthorization`.
 * @see https://cds-hooks.hl7.org/2.0/#passing-the-access-token-to-the-cds-service
 */
export function buildPatientViewCurl(opts: PatientViewCurlOptions): string {
  const body = {
    hook: 'patient-view',
    hookInstance: '6f1c2a8e-3d4b-4e5f-9a0b-1c2d3e4f5a6b',
    fhirServer: opts.fhirServer,
    fhirAuthorization: {
      access_token: opts.accessToken ?? DEMO_ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: 300,
      scope:
        'patient/Patient.read patient/Observation.read patient/Condition.read patient/MedicationRequest.read patient/MedicationStatement.read patient/Medication.read patient/DiagnosticReport.read',
      subject: 'demo-ehr',
      patient: opts.patientId,
    },
    context: { userId: 'Practitioner/demo-clinician', patientId: opts.patientId },
  };
  const url = `${opts.serviceBaseUrl.replace(/\/+$/, '')}/cds-services/${opts.serviceId}`;
  return [
    `curl -s -X POST '${url}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${JSON.stringify(body).replaceAll("'", "'\\''")}'`,
  ].join('\n');
}

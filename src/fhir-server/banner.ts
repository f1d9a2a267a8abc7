import type { DemoPatient } from './demo-bundle.js';
import { buildPatientViewCurl } from './demo-curl.js';

export interface EmbeddedFhirBannerOptions {
  serviceBaseUrl: string;
  fhirBaseUrl: string;
  serviceId: string;
  demoPatients: readonly DemoPatient[];
  startupMs: number;
}

/** The start-up lines that tell a newcomer where the FHIR server is and how to see cards. */
export function describeEmbeddedFhirServer(opts: EmbeddedFhirBannerOptions): string[] {
  const lines = [
    `Embedded FHIR R4 server (in-memory, demo data, ready in ${Math.round(opts.startupMs)} ms): ${opts.fhirBaseUrl}`,
    `  CapabilityStatement: ${opts.fhirBaseUrl}/metadata`,
    '  Demo patients:',
    ...opts.demoPatients.map((p) => `    ${p.id.padEnd(20)} ${p.name.padEnd(16)} ${p.scenario}`),
  ];
  const first = opts.demoPatients[0];
  if (first) {
    lines.push(
      '',
      `Try it: patient-view for ${first.name}, no prefetch, so the service fetches from the embedded server.`,
      'The bearer token is a demo value; the embedded server accepts any token and checks none.',
      buildPatientViewCurl({
        serviceBaseUrl: opts.serviceBaseUrl,
        serviceId: opts.serviceId,
        fhirServer: opts.fhirBaseUrl,
        patientId: first.id,
      }),
    );
  }
  return lines;
}

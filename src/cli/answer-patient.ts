import { checkedResponse, invokeService, parseHookRequest } from '../cds/hook-call.js';
import type { CdsResponse } from '../cds/schemas.js';
import type { CdsService } from '../cds/service.js';
import { FhirGatewayError, type FhirGatewayFactory } from '../fhir/gateway.js';
import { buildPatientViewRequest, type ResourceLookup } from './offline-prefetch.js';

export interface OfflineCallOptions {
  now: Date;
  lookbackDays: number;
}

// Every prefetch key is filled, so the service never needs a FHIR server; if it ever asks, say so.
const noFhirServer: FhirGatewayFactory = () => {
  throw new FhirGatewayError('FHIR_NETWORK', 'the command line works offline: no FHIR server');
};

/**
 * The service's answer to patient-view for one patient, computed as the HTTP service computes it
 * (same request validation, prefetch gathering, handler and response check), minus the trend-page
 * link, which needs a running service to host the page.
 */
export async function answerPatientView(
  service: CdsService,
  patientId: string,
  resources: readonly Record<string, unknown>[],
  options: OfflineCallOptions,
  lookup?: ResourceLookup,
): Promise<CdsResponse> {
  const request = parseHookRequest(
    buildPatientViewRequest(service, patientId, resources, lookup),
    service,
  );
  const result = await invokeService(service, request, {
    gatewayFactory: noFhirServer,
    gather: { timeoutMs: 1, maxPages: 1 },
    now: options.now,
    lookbackDays: options.lookbackDays,
  });
  return checkedResponse(service.definition.id, result);
}

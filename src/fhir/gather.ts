import { isReadQuery, resolvePrefetchTemplate, type ResolvedTemplate } from '../cds/prefetch.js';
import type { CdsRequest } from '../cds/schemas.js';
import type { CdsService, PrefetchData } from '../cds/service.js';
import { CdsError, type CdsIssue } from '../http/errors.js';
import {
  FhirGatewayError,
  type FhirCallEvent,
  type FhirGateway,
  type FhirGatewayFactory,
} from './gateway.js';
import { isOperationOutcome } from './guards.js';
import { scopeToPatient, type PatientScope } from './patient-scope.js';

export interface GatherOptions {
  timeoutMs: number;
  maxPages: number;
  /**
   * Overall deadline shared by every FHIR call of this hook invocation. It is started only when a
   * key must be fetched: with full prefetch, a timer per call would live on for the whole deadline
   * after the response, thousands of them under load, for nothing.
   */
  deadlineMs?: number;
  onFhirCall?: (event: FhirCallEvent) => void;
  retryDelayMs?: () => number;
}

export interface GatheredData {
  data: PrefetchData;
  /** Resources of other patients (or of nobody) that were dropped before the service saw them. */
  otherPatientResources: number;
}

/** Why a declared key has to be fetched. */
type MissingBecause = 'not-sent' | 'operation-outcome' | 'other-patient';

const NO_SERVER_MESSAGE: Readonly<Record<MissingBecause, string>> = {
  'not-sent': 'was not sent',
  'operation-outcome': 'holds an OperationOutcome (the client could not prefetch it)',
  'other-patient': 'holds a resource of another patient',
};

/**
 * Resolves every prefetch key the service declares: a key the client sent is used (`null`
 * meaning "no data", with no FHIR call) unless it holds an OperationOutcome, which CDS Hooks 2.0
 * lets a client send when its own prefetch failed; the rest are fetched from `fhirServer` in one
 * parallel wave. Anything that cannot be obtained is a 412 naming the keys. Every service gets only
 * the data of `context.patientId`: the resources of anyone else are dropped here and counted.
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-template
 */
export async function gatherPrefetch(
  service: CdsService,
  request: CdsRequest,
  gatewayFactory: FhirGatewayFactory,
  options: GatherOptions,
): Promise<GatheredData> {
  const templates = service.definition.prefetch ?? {};
  const provided = request.prefetch ?? {};
  const data: PrefetchData = {};
  const scope = patientScopeOf(request);
  let otherPatientResources = 0;
  const restrict = (value: fhir4.Resource | null): fhir4.Resource | null => {
    if (scope === undefined) {
      return value;
    }
    const scoped = scopeToPatient(value, scope);
    otherPatientResources += scoped.dropped;
    return scoped.value;
  };

  const missing: [key: string, template: string, because: MissingBecause][] = [];
  for (const [key, template] of Object.entries(templates)) {
    if (!Object.hasOwn(provided, key)) {
      missing.push([key, template, 'not-sent']);
      continue;
    }
    const value = provided[key] ?? null;
    if (isOperationOutcome(value)) {
      missing.push([key, template, 'operation-outcome']);
      continue;
    }
    const scoped = restrict(value);
    if (value !== null && scoped === null) {
      // A single resource of someone else (e.g. another Patient): fetch the right one.
      missing.push([key, template, 'other-patient']);
      continue;
    }
    data[key] = scoped;
  }
  if (missing.length === 0) {
    return { data, otherPatientResources };
  }

  const fhirServer = request.fhirServer;
  if (fhirServer === undefined) {
    throw unavailable(
      missing.map(([key, , because]) => ({
        path: `prefetch.${key}`,
        message: `prefetch key '${key}' ${NO_SERVER_MESSAGE[because]} and no fhirServer was given to fetch it from`,
      })),
    );
  }
  // Every template is resolved before the first request, so a bad value costs no FHIR call.
  const resolved = missing.map(([key, template]) => {
    const result = resolvePrefetchTemplate(template, request.context);
    if (result.kind === 'invalid-value') {
      throw new CdsError(
        'INVALID_REQUEST',
        `${result.token} must be a FHIR id to fill prefetch key '${key}'`,
        {
          issues: [
            { path: result.token, message: `must be a FHIR id to fill prefetch key '${key}'` },
          ],
        },
      );
    }
    return result;
  });

  const gatewayOptions = {
    baseUrl: fhirServer,
    timeoutMs: options.timeoutMs,
    maxPages: options.maxPages,
    ...(request.fhirAuthorization === undefined
      ? {}
      : { accessToken: request.fhirAuthorization.access_token }),
    ...(options.deadlineMs === undefined
      ? {}
      : { deadline: AbortSignal.timeout(options.deadlineMs) }),
    ...(options.onFhirCall === undefined ? {} : { onFhirCall: options.onFhirCall }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
  };
  const gateway = gatewayFactory(gatewayOptions);
  const settled = await Promise.allSettled(resolved.map((query) => fetchKey(gateway, query)));

  const issues: CdsIssue[] = [];
  settled.forEach((result, index) => {
    const key = missing[index]?.[0] ?? '';
    if (result.status === 'fulfilled') {
      const scoped = restrict(result.value);
      if (result.value !== null && scoped === null) {
        issues.push({
          path: `prefetch.${key}`,
          message: `could not obtain prefetch key '${key}': the FHIR server returned a resource of another patient`,
        });
        return;
      }
      data[key] = scoped;
      return;
    }
    if (!(result.reason instanceof FhirGatewayError)) {
      // Not a data problem but a bug of ours: let it become a 500.
      throw result.reason;
    }
    issues.push({
      path: `prefetch.${key}`,
      message: `could not obtain prefetch key '${key}': ${result.reason.message}`,
    });
  });
  if (issues.length > 0) {
    throw unavailable(issues, settled.find((result) => result.status === 'rejected')?.reason);
  }
  return { data, otherPatientResources };
}

function patientScopeOf(request: CdsRequest): PatientScope | undefined {
  const patientId = request.context.patientId;
  if (typeof patientId !== 'string') {
    return undefined;
  }
  return request.fhirServer === undefined
    ? { patientId }
    : { patientId, fhirServer: request.fhirServer };
}

/**
 * A read that finds nothing (404/410) is a failure, not "no data": the context names the patient,
 * and a service that analysed nobody would answer with a silent empty list.
 */
async function fetchKey(
  gateway: FhirGateway,
  resolved: Exclude<ResolvedTemplate, { kind: 'invalid-value' }>,
): Promise<fhir4.Resource | null> {
  if (resolved.kind === 'no-value') {
    // A client could not have filled this template either, so it would have sent null.
    return null;
  }
  return isReadQuery(resolved.query)
    ? gateway.read(resolved.query)
    : gateway.search(resolved.query);
}

function unavailable(issues: CdsIssue[], cause?: unknown): CdsError {
  const keys = issues.map((issue) => issue.path?.replace(/^prefetch\./, '')).join(', ');
  return new CdsError(
    'FHIR_DATA_UNAVAILABLE',
    `Required FHIR data could not be obtained: ${keys}`,
    {
      issues,
      cause,
      issueType: isTimeout(cause) ? 'timeout' : 'incomplete',
    },
  );
}

function isTimeout(cause: unknown): boolean {
  return (
    cause instanceof FhirGatewayError &&
    (cause.code === 'FHIR_TIMEOUT' || cause.code === 'FHIR_DEADLINE')
  );
}

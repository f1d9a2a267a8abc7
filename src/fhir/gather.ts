import { isReadQuery, resolvePrefetchTemplate } from '../cds/prefetch.js';
import type { CdsRequest } from '../cds/schemas.js';
import type { CdsService, PrefetchData } from '../cds/service.js';
import { CdsError, type CdsIssue } from '../http/errors.js';
import {
  FhirGatewayError,
  type FhirCallEvent,
  type FhirGateway,
  type FhirGatewayFactory,
} from './gateway.js';

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

/**
 * Resolves every prefetch key the service declares: a key the client sent is used as is (`null`
 * meaning "no data", with no FHIR call); the missing ones are fetched from `fhirServer` in one
 * parallel wave. Anything that cannot be obtained is a 412 naming the keys.
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-template
 */
export async function gatherPrefetch(
  service: CdsService,
  request: CdsRequest,
  gatewayFactory: FhirGatewayFactory,
  options: GatherOptions,
): Promise<PrefetchData> {
  const templates = service.definition.prefetch ?? {};
  const provided = request.prefetch ?? {};
  const data: PrefetchData = {};
  const missing: [key: string, template: string][] = [];
  for (const [key, template] of Object.entries(templates)) {
    if (Object.hasOwn(provided, key)) {
      data[key] = provided[key] ?? null;
    } else {
      missing.push([key, template]);
    }
  }
  if (missing.length === 0) {
    return data;
  }

  const fhirServer = request.fhirServer;
  if (fhirServer === undefined) {
    throw unavailable(
      missing.map(([key]) => ({
        path: `prefetch.${key}`,
        message: `prefetch key '${key}' was not sent and no fhirServer was given to fetch it from`,
      })),
    );
  }

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
  const settled = await Promise.allSettled(
    missing.map(([, template]) => fetchKey(gateway, template, request.context)),
  );

  const issues: CdsIssue[] = [];
  settled.forEach((result, index) => {
    const key = missing[index]?.[0] ?? '';
    if (result.status === 'fulfilled') {
      data[key] = result.value;
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
  return data;
}

async function fetchKey(
  gateway: FhirGateway,
  template: string,
  context: Readonly<Record<string, unknown>>,
): Promise<fhir4.Resource | null> {
  const resolved = resolvePrefetchTemplate(template, context);
  if (resolved.kind === 'no-value') {
    // A client could not have filled this template either, so it would have sent null.
    return null;
  }
  if (!isReadQuery(resolved.query)) {
    return gateway.search(resolved.query);
  }
  try {
    return await gateway.read(resolved.query);
  } catch (error) {
    // A read of something that does not exist is "no data", as a prefetching client would say.
    if (
      error instanceof FhirGatewayError &&
      (error.code === 'FHIR_NOT_FOUND' || error.code === 'FHIR_GONE')
    ) {
      return null;
    }
    throw error;
  }
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

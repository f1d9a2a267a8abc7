import type { DataQualityNote } from '../engine/types.js';
import { gatherPrefetch, type GatherOptions } from '../fhir/gather.js';
import type { FhirGatewayFactory } from '../fhir/gateway.js';
import { CdsError, formatIssuePath, invalidRequestFrom } from '../http/errors.js';
import {
  CdsRequestSchema,
  CdsResponseSchema,
  HookContextSchemas,
  stripResponse,
  type CdsRequest,
  type CdsResponse,
} from './schemas.js';
import type { CdsService, TrendLinkPublisher } from './service.js';

/*
 * One hook call, transport-neutral: request → prefetch → invocation → checked response. The HTTP
 * router and the command line both go through these functions, so they cannot drift apart.
 */

export interface HookCallDeps {
  gatewayFactory: FhirGatewayFactory;
  gather: GatherOptions;
  now: Date;
  lookbackDays: number;
  trendLinks?: TrendLinkPublisher;
  /** Resources of other patients (or of nobody) were dropped before the service saw the data. */
  onOtherPatientResources?: (count: number) => void;
}

/** Body → CdsRequest, checking the hook name and the hook's own context fields. */
export function parseHookRequest(body: unknown, service: CdsService): CdsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CdsError('INVALID_REQUEST', 'Request body must be a JSON object');
  }
  const parsed = CdsRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw invalidRequestFrom(parsed.error);
  }
  const request = parsed.data;
  if (request.hook !== service.definition.hook) {
    throw new CdsError(
      'HOOK_MISMATCH',
      `hook '${request.hook.slice(0, 100)}' does not match service '${service.definition.id}', which answers '${service.definition.hook}'`,
      { issues: [] },
    );
  }
  const contextSchema = HookContextSchemas[request.hook];
  if (contextSchema !== undefined) {
    const context = contextSchema.safeParse(request.context);
    if (!context.success) {
      throw invalidRequestFrom(context.error, 'context');
    }
  }
  return request;
}

/** Resolves the service's prefetch (sent or fetched) and runs its handler on it. */
export async function invokeService(
  service: CdsService,
  request: CdsRequest,
  deps: HookCallDeps,
): ReturnType<CdsService['handle']> {
  const { data, otherPatientResources } = await gatherPrefetch(
    service,
    request,
    deps.gatewayFactory,
    deps.gather,
  );
  const dataNotes: DataQualityNote[] = [];
  if (otherPatientResources > 0) {
    deps.onOtherPatientResources?.(otherPatientResources);
    dataNotes.push(otherPatientNote(otherPatientResources));
  }
  return service.handle({
    request,
    data,
    now: deps.now,
    lookbackDays: deps.lookbackDays,
    dataNotes,
    ...(deps.trendLinks === undefined ? {} : { trendLinks: deps.trendLinks }),
  });
}

function otherPatientNote(count: number): DataQualityNote {
  return {
    code: 'other-patient-data',
    message:
      `${count} resource(s) not about this patient (another patient's, or no patient's) were ` +
      'left out of the analysis: check the EHR feed.',
  };
}

/**
 * Strips empty optionals, then proves the result is a valid CDS Hooks response. One stripping pass
 * suffices: the schema has no defaults or transforms, so what it returns has no empties either.
 */
export function checkedResponse(
  serviceId: string,
  result: unknown,
  onInvalid?: (serviceId: string, problems: string[]) => void,
): CdsResponse {
  const parsed = CdsResponseSchema.safeParse(stripResponse(result));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${formatIssuePath(issue.path) || '(response)'}: ${issue.message}`,
    );
    onInvalid?.(serviceId, problems);
    throw new CdsError('INVALID_RESPONSE', `Service '${serviceId}' built an invalid response`);
  }
  return parsed.data;
}

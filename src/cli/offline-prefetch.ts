import { randomUUID } from 'node:crypto';
import { isReadQuery, resolvePrefetchTemplate } from '../cds/prefetch.js';
import type { CdsService } from '../cds/service.js';
import { isRecord } from '../fhir/guards.js';

/*
 * Builds the patient-view request an EHR would send for one patient, with every prefetch key
 * filled from that patient's resources: each template of the service is evaluated here, offline,
 * as the FHIR server would evaluate it, so the command line feeds the service what it asks for.
 */

/** The user the command line calls the service as; patient-view requires one and no card uses it. */
export const CLI_USER_ID = 'Practitioner/hepatic-trends-cli';

/** The patient a resource is about: `Patient/<id>` in `subject` or `patient`, or its own id. */
export function patientIdOf(resource: Record<string, unknown>): string | undefined {
  if (resource.resourceType === 'Patient') {
    return typeof resource.id === 'string' && resource.id !== '' ? resource.id : undefined;
  }
  for (const field of ['subject', 'patient']) {
    const reference = resource[field];
    if (isRecord(reference) && typeof reference.reference === 'string') {
      const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(
        reference.reference,
      );
      if (match !== null) {
        return match[1];
      }
    }
  }
  return undefined;
}

export class OfflineSearchError extends Error {
  override readonly name = 'OfflineSearchError';
}

/** Finds a resource by type and id for `_include`, e.g. a Medication no patient owns. */
export type ResourceLookup = (type: string, id: string) => Record<string, unknown> | undefined;

/** The target type of each `_include` search parameter the prefetch may use. */
const INCLUDE_TARGETS: Readonly<Record<string, string>> = { medication: 'Medication' };

/** Resource types a prefetch template includes by reference (`_include=X:medication` → Medication). */
export function includedTypesOf(template: string): string[] {
  const params = new URLSearchParams(template.split('?', 2)[1] ?? '');
  return params.getAll('_include').flatMap((value) => {
    const target = INCLUDE_TARGETS[value.split(':')[1] ?? ''];
    return target === undefined ? [] : [target];
  });
}

/**
 * The hook request for `patientId`, its prefetch evaluated against `resources` (searches keep only
 * that patient's); `lookup` resolves `_include` references (by default, among `resources`).
 */
export function buildPatientViewRequest(
  service: CdsService,
  patientId: string,
  resources: readonly Record<string, unknown>[],
  lookup: ResourceLookup = lookupAmong(resources),
): Record<string, unknown> {
  const context = { userId: CLI_USER_ID, patientId };
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(service.definition.prefetch ?? {})) {
    const resolved = resolvePrefetchTemplate(template, context);
    prefetch[key] =
      resolved.kind === 'query' ? evaluateQuery(resolved.query, resources, lookup) : null;
  }
  return { hook: service.definition.hook, hookInstance: randomUUID(), context, prefetch };
}

export function lookupAmong(resources: readonly Record<string, unknown>[]): ResourceLookup {
  const byKey = new Map(resources.map((r) => [`${String(r.resourceType)}/${String(r.id)}`, r]));
  return (type, id) => byKey.get(`${type}/${id}`);
}

function evaluateQuery(
  query: string,
  resources: readonly Record<string, unknown>[],
  lookup: ResourceLookup,
): Record<string, unknown> | null {
  if (isReadQuery(query)) {
    const [type, id] = query.replace(/^\//, '').split('/');
    return resources.find((r) => r.resourceType === type && r.id === id) ?? null;
  }
  const [type = '', search = ''] = query.split('?', 2);
  const params = new URLSearchParams(search);
  let matches = resources.filter((r) => r.resourceType === type && patientIdOf(r) !== undefined);
  let sort: string | undefined;
  const includes: string[] = [];
  for (const [name, value] of params) {
    switch (name) {
      case 'patient':
      case 'subject':
        matches = matches.filter((r) => `${patientIdOf(r)}` === value.replace(/^Patient\//, ''));
        break;
      case 'code':
        matches = matches.filter((r) => matchesToken(r.code, value.split(',')));
        break;
      case 'status':
        matches = matches.filter((r) => value.split(',').includes(String(r.status)));
        break;
      case '_sort':
        sort = value;
        break;
      case '_include':
        if (
          value.split(':')[0] !== type ||
          INCLUDE_TARGETS[value.split(':')[1] ?? ''] === undefined
        ) {
          throw new OfflineSearchError(
            `prefetch query '${type}?…_include=${value}' names an include the command line cannot evaluate offline`,
          );
        }
        includes.push(value.split(':')[1] ?? '');
        break;
      case '_count':
        // A page size: every page is sent, as an EHR that follows `next` links would.
        break;
      default:
        throw new OfflineSearchError(
          `prefetch query '${type}?…${name}=…' uses a search parameter the command line cannot evaluate offline`,
        );
    }
  }
  if (sort !== undefined) {
    matches = sortByDate(matches, sort, type);
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matches.length,
    entry: [
      ...matches.map((resource) => ({ resource, search: { mode: 'match' } })),
      ...included(matches, includes, lookup).map((resource) => ({
        resource,
        search: { mode: 'include' },
      })),
    ],
  };
}

/** The resources the matches reference through each `_include` parameter, once each. */
function included(
  matches: readonly Record<string, unknown>[],
  params: readonly string[],
  lookup: ResourceLookup,
): Record<string, unknown>[] {
  const found = new Map<string, Record<string, unknown>>();
  for (const param of params) {
    const target = INCLUDE_TARGETS[param] ?? '';
    for (const match of matches) {
      // A choice element (medication[x]) holds its reference in `<param>Reference`.
      const value = match[`${param}Reference`] ?? match[param];
      const reference = isRecord(value) ? value.reference : undefined;
      const id =
        typeof reference === 'string'
          ? new RegExp(`(?:^|/)${target}/([A-Za-z0-9\\-.]{1,64})$`).exec(reference)?.[1]
          : undefined;
      const resource = id === undefined ? undefined : lookup(target, id);
      if (id !== undefined && resource !== undefined) {
        found.set(id, resource);
      }
    }
  }
  return [...found.values()];
}

/** FHIR token search: `system|code`, `code` or `system|`, matched against any coding. */
function matchesToken(concept: unknown, tokens: readonly string[]): boolean {
  const codings = isRecord(concept) && Array.isArray(concept.coding) ? concept.coding : [];
  return codings.some(
    (coding) =>
      isRecord(coding) &&
      tokens.some((token) => {
        const bar = token.indexOf('|');
        if (bar < 0) {
          return coding.code === token;
        }
        const system = token.slice(0, bar);
        const code = token.slice(bar + 1);
        return (system === '' || coding.system === system) && (code === '' || coding.code === code);
      }),
  );
}

/** The element each type's `date` search parameter reads (FHIR R4 search parameter registry). */
const DATE_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  Observation: ['effectiveDateTime', 'effectiveInstant', 'effectivePeriod'],
  DiagnosticReport: ['effectiveDateTime', 'effectivePeriod'],
  Condition: ['recordedDate'],
  MedicationRequest: ['authoredOn'],
  Procedure: ['performedDateTime', 'performedPeriod'],
};

function sortByDate(
  resources: Record<string, unknown>[],
  sort: string,
  type: string,
): Record<string, unknown>[] {
  const field = sort.replace(/^-/, '');
  if (field !== 'date' || DATE_ELEMENTS[type] === undefined) {
    throw new OfflineSearchError(`prefetch query '${type}?_sort=${sort}' cannot be sorted offline`);
  }
  const elements = DATE_ELEMENTS[type];
  const keyed = resources.map((resource) => ({ resource, at: dateOf(resource, elements) }));
  const direction = sort.startsWith('-') ? -1 : 1;
  // Resources without a date go last either way, as servers place them.
  keyed.sort((a, b) => {
    if (Number.isNaN(a.at) || Number.isNaN(b.at)) {
      return Number.isNaN(a.at) ? (Number.isNaN(b.at) ? 0 : 1) : -1;
    }
    return direction * (a.at - b.at);
  });
  return keyed.map(({ resource }) => resource);
}

function dateOf(resource: Record<string, unknown>, elements: readonly string[]): number {
  for (const element of elements) {
    const value = resource[element];
    const text = isRecord(value) ? value.start : value;
    if (typeof text === 'string') {
      return Date.parse(text);
    }
  }
  return Number.NaN;
}

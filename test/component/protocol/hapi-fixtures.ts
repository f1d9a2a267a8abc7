/*
 * Builders for HAPI-shaped search pages: `_getpages` next links on the server base (no resource
 * type in the path), no `total`, numeric ids, absolute fullUrls, 20 entries per page by default.
 */

export const HAPI_ORIGIN = 'https://hapi.example.org';
export const HAPI_PATH = '/baseR4';
export const HAPI_BASE = `${HAPI_ORIGIN}${HAPI_PATH}`;
export const HAPI_PAGE_SIZE = 20;

export function buildHapiObservation(id: number, patientId: string): fhir4.Observation {
  return {
    resourceType: 'Observation',
    id: String(id),
    meta: { versionId: '1', lastUpdated: '2026-02-01T08:00:00.000+00:00' },
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '6768-6' }] },
    subject: { reference: `Patient/${patientId}` },
    valueQuantity: { value: 100 + (id % 50), unit: 'U/L', system: 'http://unitsofmeasure.org' },
  };
}

/** Query of the `_getpages` link HAPI puts on page `offset / count`. */
export function hapiPageQuery(searchId: string, offset: number, count = HAPI_PAGE_SIZE) {
  return {
    _getpages: searchId,
    _getpagesoffset: String(offset),
    _count: String(count),
    _pretty: 'true',
    _bundletype: 'searchset',
  };
}

export interface HapiPageOptions {
  searchId: string;
  offset: number;
  resources: fhir4.Observation[];
  /** Whether another page follows. */
  hasNext: boolean;
  count?: number;
  include?: fhir4.FhirResource[];
}

export function buildHapiPage(options: HapiPageOptions): fhir4.Bundle {
  const count = options.count ?? HAPI_PAGE_SIZE;
  const link: fhir4.BundleLink[] = [
    { relation: 'self', url: `${HAPI_BASE}/Observation?_count=${count}&patient=Patient%2F1288992` },
  ];
  if (options.hasNext) {
    const query = new URLSearchParams(
      hapiPageQuery(options.searchId, options.offset + count, count),
    );
    link.push({ relation: 'next', url: `${HAPI_BASE}?${query.toString()}` });
  }
  return {
    resourceType: 'Bundle',
    id: options.searchId,
    meta: { lastUpdated: '2026-03-01T11:59:58.000+00:00' },
    type: 'searchset',
    link,
    entry: [
      ...options.resources.map((resource) => ({
        fullUrl: `${HAPI_BASE}/Observation/${resource.id ?? ''}`,
        resource,
        search: { mode: 'match' as const },
      })),
      ...(options.include ?? []).map((resource) => ({
        fullUrl: `${HAPI_BASE}/${resource.resourceType}/${resource.id ?? ''}`,
        resource,
        search: { mode: 'include' as const },
      })),
    ],
  };
}

export function buildHapiObservations(firstId: number, howMany: number): fhir4.Observation[] {
  return Array.from({ length: howMany }, (_, index) =>
    buildHapiObservation(firstId + index, '1288992'),
  );
}

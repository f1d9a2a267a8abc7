/** Runtime guards that narrow untyped JSON into `@types/fhir` shapes without casts. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFhirResource(value: unknown): value is fhir4.Resource {
  return isRecord(value) && typeof value.resourceType === 'string' && value.resourceType !== '';
}

export function isBundle(value: unknown): value is fhir4.Bundle {
  return (
    isRecord(value) &&
    value.resourceType === 'Bundle' &&
    typeof value.type === 'string' &&
    isOptionalArray(value.entry) &&
    isOptionalArray(value.link)
  );
}

export function isOperationOutcome(value: unknown): value is fhir4.OperationOutcome {
  return isFhirResource(value) && value.resourceType === 'OperationOutcome';
}

/** The absolute URL of a Bundle's `next` link, taken verbatim (HAPI's `_getpages` links included). */
export function nextLinkOf(bundle: fhir4.Bundle): string | undefined {
  const next = bundle.link?.find((link) => isRecord(link) && link.relation === 'next');
  return typeof next?.url === 'string' && next.url !== '' ? next.url : undefined;
}

/** Resources of a searchset page that matched the query; `include` and `outcome` entries are skipped. */
export function matchEntriesOf(bundle: fhir4.Bundle): fhir4.BundleEntry[] {
  return (bundle.entry ?? []).filter((entry: unknown): entry is fhir4.BundleEntry => {
    if (!isRecord(entry) || !isFhirResource(entry.resource)) {
      return false;
    }
    const mode = isRecord(entry.search) ? entry.search.mode : undefined;
    return mode === undefined || mode === 'match';
  });
}

function isOptionalArray(value: unknown): boolean {
  return value === undefined || Array.isArray(value);
}

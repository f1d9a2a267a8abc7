import { isBundle, isFhirResource, isRecord } from './guards.js';

/**
 * Keeps only the data of the patient in context. Whatever a client prefetched or a FHIR server
 * answered, a resource reaches a service only when it is that Patient, or points at it through
 * `subject`/`patient`, or is shared reference data (a Practitioner, an Organization, a Medication
 * that a kept resource refers to). Everything else is dropped and counted; nothing is guessed.
 */

/** Types that hold no patient data of their own and may sit beside a patient's resources. */
const SHARED_TYPES: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'HealthcareService',
  'Endpoint',
  'Substance',
  'OperationOutcome',
]);

/** `[base/]Type/id[/_history/version]`, the reference forms FHIR R4 allows for a resource. */
const REFERENCE =
  /^(?:(https?:\/\/[^?#]+?)\/)?([A-Z][A-Za-z]{0,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export interface PatientScope {
  patientId: string;
  /** The FHIR base the data came from; an absolute reference to any other base is another patient. */
  fhirServer?: string;
}

export interface ScopedValue {
  value: fhir4.Resource | null;
  /** Resources removed because they belong to another patient or to no patient at all. */
  dropped: number;
}

/**
 * One prefetch value restricted to the patient: a Bundle loses the entries of other patients (and
 * Medications that no kept entry refers to), a single resource of another patient becomes null.
 */
export function scopeToPatient(value: fhir4.Resource | null, scope: PatientScope): ScopedValue {
  if (value === null) {
    return { value, dropped: 0 };
  }
  if (!isBundle(value)) {
    return belongsToPatient(value, scope) ? { value, dropped: 0 } : { value: null, dropped: 1 };
  }
  return scopeBundle(value, scope);
}

function scopeBundle(bundle: fhir4.Bundle, scope: PatientScope): ScopedValue {
  const entries = bundle.entry ?? [];
  const kept: fhir4.BundleEntry[] = [];
  const medications: fhir4.BundleEntry[] = [];
  let dropped = 0;
  for (const entry of entries) {
    const resource: unknown = isRecord(entry) ? entry.resource : undefined;
    if (!isFhirResource(resource)) {
      kept.push(entry);
    } else if (resource.resourceType === 'Medication') {
      medications.push(entry);
    } else if (belongsToPatient(resource, scope)) {
      kept.push(entry);
    } else {
      dropped += 1;
    }
  }
  if (medications.length > 0) {
    const referenced = collectMedicationReferences(kept);
    for (const entry of medications) {
      if (isReferenced(entry, referenced)) {
        kept.push(entry);
      } else {
        dropped += 1;
      }
    }
  }
  if (dropped === 0) {
    return { value: bundle, dropped };
  }
  const filtered: fhir4.Bundle = { ...bundle, entry: kept };
  return { value: filtered, dropped };
}

/** True when the resource is the patient in context or is recorded about that patient. */
export function belongsToPatient(resource: fhir4.Resource, scope: PatientScope): boolean {
  if (resource.resourceType === 'Patient') {
    return resource.id === scope.patientId;
  }
  const record: Record<string, unknown> = isRecord(resource) ? resource : {};
  const subject = record.subject;
  const patient = record.patient;
  if (subject === undefined && patient === undefined) {
    return SHARED_TYPES.has(resource.resourceType);
  }
  return (
    (subject === undefined || refersToPatient(subject, scope)) &&
    (patient === undefined || refersToPatient(patient, scope))
  );
}

function refersToPatient(reference: unknown, scope: PatientScope): boolean {
  if (!isRecord(reference) || typeof reference.reference !== 'string') {
    // An identifier-only or display-only reference names nobody we can check.
    return false;
  }
  const parsed = parseReference(reference.reference);
  if (parsed?.type !== 'Patient' || parsed.id !== scope.patientId) {
    return false;
  }
  return parsed.base === undefined || scope.fhirServer === undefined
    ? true
    : sameBase(parsed.base, scope.fhirServer);
}

function parseReference(
  reference: string,
): { base: string | undefined; type: string; id: string } | undefined {
  const match = REFERENCE.exec(reference);
  if (match?.[2] === undefined || match[3] === undefined) {
    return undefined;
  }
  return { base: match[1], type: match[2], id: match[3] };
}

function sameBase(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
    } catch {
      return url;
    }
  };
  return normal(a) === normal(b);
}

/** Medication ids (and full URLs) that the kept entries point at through `medicationReference`. */
function collectMedicationReferences(entries: readonly fhir4.BundleEntry[]): Set<string> {
  const referenced = new Set<string>();
  for (const entry of entries) {
    const resource: unknown = entry.resource;
    if (!isRecord(resource)) {
      continue;
    }
    const reference = resource.medicationReference;
    if (!isRecord(reference) || typeof reference.reference !== 'string') {
      continue;
    }
    referenced.add(reference.reference);
    const parsed = parseReference(reference.reference);
    if (parsed?.type === 'Medication') {
      referenced.add(`Medication/${parsed.id}`);
    }
  }
  return referenced;
}

function isReferenced(entry: fhir4.BundleEntry, referenced: ReadonlySet<string>): boolean {
  const id = entry.resource?.id;
  return (
    (id !== undefined && referenced.has(`Medication/${id}`)) ||
    (entry.fullUrl !== undefined && referenced.has(entry.fullUrl))
  );
}

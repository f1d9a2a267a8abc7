import type {
  ConditionGroupId,
  ConditionList,
  DrugEntry,
  DrugList,
} from '../cards/content-schema.js';
import { isRecord } from '../fhir/guards.js';
import { CPT, LOINC, SNOMED_CT } from '../terminology/systems.js';
import { matchDrug, type MedicationDescription } from './match-medication.js';

/** What the rules know about the patient beyond the labs. Plain data, built once per request. */
export interface PatientContext {
  conditions: ContextCondition[];
  cholestaticDrugs: MatchedDrug[];
  immunosuppressants: string[];
  /** An abdominal ultrasound on record inside the look-back window, newest first. */
  abdominalImaging: ImagingRecord | null;
}

export interface ContextCondition {
  group: ConditionGroupId;
  label: string;
  conditionId: string | null;
  code: string;
}

export interface MatchedDrug {
  drug: DrugEntry;
  matchedBy: 'rxnorm' | 'name';
  medicationRequestId: string | null;
  /** The medication as the record names it, for the card. */
  recordText: string;
}

export interface ImagingRecord {
  resourceType: string;
  id: string | null;
  date: string;
}

export interface ContextSources {
  conditions: readonly fhir4.Condition[];
  medicationRequests: readonly fhir4.MedicationRequest[];
  /** Medications returned beside the requests (e.g. by `_include`), resolved by reference. */
  medications: readonly fhir4.Medication[];
  /** DiagnosticReports, Procedures or ServiceRequests that may record abdominal imaging. */
  imaging: readonly fhir4.Resource[];
  now: Date;
  lookbackDays: number;
}

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const ACTIVE_CLINICAL_STATUSES = ['active', 'recurrence', 'relapse'];
const EXCLUDED_VERIFICATION_STATUSES = ['entered-in-error', 'refuted'];

/**
 * Codes that count as "an abdominal ultrasound on record": US abdomen complete and RUQ (LOINC 24558-9,
 * 24532-4), SNOMED CT 45036003, CPT 76700 / 76705 (clinical reference §1d and §6).
 */
export const ABDOMINAL_ULTRASOUND_CODES: ReadonlyArray<{ system: string; code: string }> = [
  { system: LOINC, code: '24558-9' },
  { system: LOINC, code: '24532-4' },
  { system: SNOMED_CT, code: '45036003' },
  { system: CPT, code: '76700' },
  { system: CPT, code: '76705' },
];

const DONE_IMAGING_STATUSES: Readonly<Record<string, readonly string[]>> = {
  DiagnosticReport: ['preliminary', 'final', 'amended', 'corrected', 'appended'],
  Procedure: ['completed'],
  ServiceRequest: ['completed'],
};

export function readPatientContext(
  sources: ContextSources,
  lists: { conditions: ConditionList; drugs: DrugList },
): PatientContext {
  return {
    conditions: sources.conditions
      .filter(isCurrentCondition)
      .flatMap((condition) => classifyCondition(condition, lists.conditions)),
    cholestaticDrugs: matchMedications(sources, lists.drugs),
    immunosuppressants: describeMedications(sources).flatMap(({ medication }) => {
      const match = matchDrug(medication, lists.drugs.immunosuppressants, lists.drugs.rxnormSystem);
      return match === null ? [] : [match.drug.name];
    }),
    abdominalImaging: findAbdominalImaging(sources),
  };
}

export function hasCondition(context: PatientContext, ...groups: ConditionGroupId[]): boolean {
  return context.conditions.some((condition) => groups.includes(condition.group));
}

/**
 * Active, recurrent or relapsed, and not entered in error or refuted. A Condition without a
 * clinicalStatus is kept: R4 only allows that for entered-in-error records, which are dropped anyway.
 */
function isCurrentCondition(condition: fhir4.Condition): boolean {
  const verification = codesOf(condition.verificationStatus, CONDITION_VERIFICATION);
  if (verification.some((code) => EXCLUDED_VERIFICATION_STATUSES.includes(code))) {
    return false;
  }
  if (condition.clinicalStatus === undefined) {
    return true;
  }
  return codesOf(condition.clinicalStatus, CONDITION_CLINICAL).some((code) =>
    ACTIVE_CLINICAL_STATUSES.includes(code),
  );
}

function classifyCondition(condition: fhir4.Condition, list: ConditionList): ContextCondition[] {
  const codings = codingsOf(condition.code);
  const found = new Map<ConditionGroupId, ContextCondition>();
  for (const coding of codings) {
    if (typeof coding.code !== 'string' || typeof coding.system !== 'string') {
      continue;
    }
    const code = coding.code;
    const isSnomed = coding.system === list.snomedSystem;
    const isIcd = list.icdSystems.includes(coding.system);
    for (const group of list.groups) {
      const matches =
        (isSnomed && group.snomed.some((entry) => entry.code === code)) ||
        (isIcd && group.icd10cmPrefixes.some((entry) => icdStartsWith(code, entry.code)));
      if (matches && !found.has(group.id)) {
        found.set(group.id, {
          group: group.id,
          label: group.label,
          conditionId: condition.id ?? null,
          code,
        });
      }
    }
  }
  return [...found.values()];
}

/** ICD-10-CM prefix match on the code without its dot, so "K50" covers "K50.90" and "K5090". */
export function icdStartsWith(code: string, prefix: string): boolean {
  const strip = (value: string) => value.replace(/\./g, '').trim().toUpperCase();
  return strip(code).startsWith(strip(prefix));
}

function matchMedications(sources: ContextSources, drugs: DrugList): MatchedDrug[] {
  const matched: MatchedDrug[] = [];
  for (const { request, medication } of describeMedications(sources)) {
    const match = matchDrug(medication, drugs.cholestatic, drugs.rxnormSystem);
    if (match !== null && !matched.some((entry) => entry.drug.name === match.drug.name)) {
      matched.push({
        drug: match.drug,
        matchedBy: match.matchedBy,
        medicationRequestId: request.id ?? null,
        recordText:
          medication.texts[0] ??
          medication.codings.find((coding) => coding.display)?.display ??
          match.drug.name,
      });
    }
  }
  return matched;
}

/** Active requests only, with the medication taken from the code, a contained or an included resource. */
function describeMedications(
  sources: ContextSources,
): Array<{ request: fhir4.MedicationRequest; medication: MedicationDescription }> {
  return sources.medicationRequests
    .filter((request) => request.status === 'active')
    .map((request) => ({ request, medication: describeMedication(request, sources.medications) }));
}

function describeMedication(
  request: fhir4.MedicationRequest,
  included: readonly fhir4.Medication[],
): MedicationDescription {
  const concept = request.medicationCodeableConcept;
  if (concept !== undefined) {
    return { codings: codingsOf(concept), texts: textsOf(concept) };
  }
  const reference = request.medicationReference;
  const texts = typeof reference?.display === 'string' ? [reference.display] : [];
  const target = reference?.reference;
  if (typeof target !== 'string') {
    return { codings: [], texts };
  }
  const medication = target.startsWith('#')
    ? (Array.isArray(request.contained) ? request.contained : []).find(
        (resource): resource is fhir4.Medication =>
          isRecord(resource) &&
          resource.resourceType === 'Medication' &&
          `#${resource.id ?? ''}` === target,
      )
    : included.find((resource) => `Medication/${resource.id ?? ''}` === target);
  if (medication?.code === undefined) {
    return { codings: [], texts };
  }
  return { codings: codingsOf(medication.code), texts: [...textsOf(medication.code), ...texts] };
}

function findAbdominalImaging(sources: ContextSources): ImagingRecord | null {
  const since = sources.now.getTime() - sources.lookbackDays * 86_400_000;
  const records = sources.imaging.flatMap((resource): ImagingRecord[] => {
    const described = describeImaging(resource);
    if (described === null) {
      return [];
    }
    const time = Date.parse(described.date);
    const isAbdominalUs = described.codings.some((coding) =>
      ABDOMINAL_ULTRASOUND_CODES.some(
        (known) => known.system === coding.system && known.code === coding.code,
      ),
    );
    const isDone = (DONE_IMAGING_STATUSES[resource.resourceType] ?? []).includes(described.status);
    return isAbdominalUs && isDone && time >= since && time <= sources.now.getTime()
      ? [{ resourceType: resource.resourceType, id: resource.id ?? null, date: described.date }]
      : [];
  });
  records.sort((a, b) => Date.parse(b.date) - Date.parse(a.date));
  return records[0] ?? null;
}

function describeImaging(
  resource: fhir4.Resource,
): { codings: fhir4.Coding[]; status: string; date: string } | null {
  let date: string | undefined;
  let codings: fhir4.Coding[] = [];
  let status = '';
  if (isResourceOfType<fhir4.DiagnosticReport>(resource, 'DiagnosticReport')) {
    date = resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.issued;
    codings = codingsOf(resource.code);
    status = resource.status;
  } else if (isResourceOfType<fhir4.Procedure>(resource, 'Procedure')) {
    date = resource.performedDateTime ?? resource.performedPeriod?.start;
    codings = codingsOf(resource.code);
    status = resource.status;
  } else if (isResourceOfType<fhir4.ServiceRequest>(resource, 'ServiceRequest')) {
    date = resource.occurrenceDateTime ?? resource.authoredOn;
    codings = codingsOf(resource.code);
    status = resource.status;
  }
  return typeof date !== 'string' || Number.isNaN(Date.parse(date))
    ? null
    : { codings, status, date };
}

function isResourceOfType<T extends fhir4.Resource>(
  resource: fhir4.Resource,
  type: T['resourceType'],
): resource is T {
  return resource.resourceType === type;
}

function codesOf(concept: fhir4.CodeableConcept | undefined, system: string): string[] {
  return codingsOf(concept)
    .filter((coding) => coding.system === system || coding.system === undefined)
    .flatMap((coding) => (typeof coding.code === 'string' ? [coding.code] : []));
}

/** Codings of a concept from untrusted JSON: only object entries of an actual array. */
function codingsOf(concept: fhir4.CodeableConcept | undefined): fhir4.Coding[] {
  const codings: unknown = isRecord(concept) ? concept.coding : undefined;
  return Array.isArray(codings) ? codings.filter(isCoding) : [];
}

function textsOf(concept: fhir4.CodeableConcept | undefined): string[] {
  return isRecord(concept) && typeof concept.text === 'string' && concept.text !== ''
    ? [concept.text]
    : [];
}

function isCoding(value: unknown): value is fhir4.Coding {
  return isRecord(value);
}

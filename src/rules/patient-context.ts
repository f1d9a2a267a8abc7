import type {
  ConditionGroupId,
  ConditionList,
  ContextRules,
  DrugEntry,
  DrugList,
  DrugProductTable,
} from '../cards/content-schema.js';
import { isRecord } from '../fhir/guards.js';
import { CPT, LOINC, SNOMED_CT } from '../terminology/systems.js';
import {
  cholestaticDrugCatalogue,
  describeConcept,
  describeMedicationResource,
  matchDrug,
  matchMedication,
  type MatchedBy,
  type MedicationDescription,
} from './match-medication.js';
import { readImagingFindings, type ImagingFinding } from './imaging-findings.js';
import { readPregnancy, type PregnancyRecord } from './pregnancy.js';

/** What the rules know about the patient beyond the labs. Plain data, built once per request. */
export interface PatientContext {
  conditions: ContextCondition[];
  /** Cholestatic drugs taken now or stopped inside the exposure window (C4), current ones first. */
  cholestaticDrugs: MatchedDrug[];
  /** Immunosuppressants taken now (not recently stopped ones): "on immunosuppression" (C3). */
  immunosuppressants: string[];
  /** Current or recent medication records whose Medication was not supplied: unchecked, not silent. */
  unresolvedMedications?: number;
  /** An abdominal ultrasound on record inside the look-back window, newest first. */
  abdominalImaging: ImagingRecord | null;
  /** The latest pregnancy on record, with its dates (placental ALP, reference §2c). */
  pregnancy: PregnancyRecord | null;
}

export interface ContextCondition {
  group: ConditionGroupId;
  label: string;
  conditionId: string | null;
  code: string;
}

export interface ImagingRecord {
  resourceType: string;
  id: string | null;
  date: string;
  /** The report's conclusion text, when it has one. */
  conclusion: string | null;
  /** Duct stones or dilated ducts the report affirms: obstruction found (X3). */
  findings: ImagingFinding[];
}

export interface ContextSources {
  conditions: readonly fhir4.Condition[];
  medicationRequests: readonly fhir4.MedicationRequest[];
  medicationStatements?: readonly fhir4.MedicationStatement[];
  /** Medications returned beside the records (by `_include`, or in any prefetch key), resolved by reference. */
  medications: readonly fhir4.Medication[];
  /** DiagnosticReports, Procedures or ServiceRequests that may record abdominal imaging. */
  imaging: readonly fhir4.Resource[];
  /** Observations that may date a pregnancy (status, gestational age, delivery dates). */
  observations?: readonly fhir4.Observation[];
  now: Date;
  lookbackDays: number;
}

const DAY_MS = 86_400_000;
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
  lists: {
    conditions: ConditionList;
    drugs: DrugList;
    drugProducts?: DrugProductTable;
    contextRules: ContextRules;
  },
): PatientContext {
  const medications = describeMedications(sources, lists.drugs);
  return {
    conditions: sources.conditions
      .filter(isCurrentCondition)
      .flatMap((condition) => classifyCondition(condition, lists.conditions)),
    cholestaticDrugs: matchMedications(medications, lists.drugs, lists.drugProducts),
    immunosuppressants: medications
      .filter(({ exposure }) => isCurrent(exposure))
      .flatMap(({ medication }) => {
        const match = matchDrug(
          medication,
          lists.drugs.immunosuppressants,
          lists.drugs.rxnormSystem,
        );
        return match === null ? [] : [match.drug.name];
      }),
    unresolvedMedications: medications.filter(({ unresolved }) => unresolved).length,
    abdominalImaging: findAbdominalImaging(sources, lists.contextRules),
    pregnancy: readPregnancy(
      {
        conditions: sources.conditions,
        observations: sources.observations ?? [],
        now: sources.now,
      },
      lists.contextRules.pregnancy,
      lists.conditions,
    ),
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

// ---- medications (C4, W8): what the patient takes now or stopped within the exposure window ----

export interface MatchedDrug {
  drug: DrugEntry;
  matchedBy: MatchedBy;
  /** The MedicationRequest or MedicationStatement id the drug was found in. */
  medicationRequestId: string | null;
  sourceType: 'MedicationRequest' | 'MedicationStatement';
  /** The medication as the record names it, for the card. */
  recordText: string;
  exposure: MedicationExposure;
}

/**
 * When the patient took the drug. Cholestatic injury can start after a drug is stopped and resolves
 * over about six months (C4, reference §5), so a stopped drug counts until the window closes.
 */
export interface MedicationExposure {
  status: 'active' | 'on-hold' | 'stopped' | 'completed';
  /** The recorded end (ISO), for a stopped or completed record that has one. */
  endedOn: string | null;
  /** Whole days from `endedOn` to now. */
  daysSinceEnd: number | null;
  /** For an ended record without an end: the order or start date, which bounds the end from below. */
  startedOn: string | null;
}

const CURRENT_STATUSES = ['active', 'on-hold'] as const;
const ENDED_STATUSES = ['stopped', 'completed'] as const;

type MedicationRecord = fhir4.MedicationRequest | fhir4.MedicationStatement;

function matchMedications(
  medications: readonly DescribedMedication[],
  drugs: DrugList,
  products: DrugProductTable | undefined,
): MatchedDrug[] {
  const catalogue = cholestaticDrugCatalogue(drugs, products);
  const best = new Map<string, MatchedDrug>();
  for (const { record, medication, exposure } of medications) {
    const match = matchMedication(medication, catalogue);
    if (match === null) {
      continue;
    }
    const candidate: MatchedDrug = {
      drug: match.drug,
      matchedBy: match.matchedBy,
      medicationRequestId: record.id ?? null,
      sourceType: record.resourceType,
      recordText:
        medication.texts[0] ??
        medication.codings.find((coding) => coding.display)?.display ??
        match.drug.name,
      exposure,
    };
    const kept = best.get(match.drug.name);
    if (kept === undefined || isMoreRecent(candidate.exposure, kept.exposure)) {
      best.set(match.drug.name, candidate);
    }
  }
  return [...best.values()].sort((a, b) => (isMoreRecent(a.exposure, b.exposure) ? -1 : 1));
}

/** A current record beats an ended one; of two ended ones, the later end (unknown ends last). */
function isMoreRecent(a: MedicationExposure, b: MedicationExposure): boolean {
  if (isCurrent(a) !== isCurrent(b)) {
    return isCurrent(a);
  }
  return (a.daysSinceEnd ?? Infinity) < (b.daysSinceEnd ?? Infinity);
}

interface DescribedMedication {
  record: MedicationRecord;
  medication: MedicationDescription;
  exposure: MedicationExposure;
  /** A reference to a Medication that was not supplied, with no display to go by. */
  unresolved: boolean;
}

/**
 * Requests and statements that are current, or that ended inside the exposure window, each with
 * the medication taken from its code, a contained Medication or one supplied beside it.
 */
function describeMedications(sources: ContextSources, drugs: DrugList): DescribedMedication[] {
  const records: MedicationRecord[] = [
    ...sources.medicationRequests,
    ...(sources.medicationStatements ?? []),
  ];
  return records.flatMap((record) => {
    const exposure = readExposure(record, sources.now, drugs.recentExposure.days);
    if (exposure === null) {
      return [];
    }
    const medication = describeMedication(record, sources.medications);
    const unresolved = medication.codings.length === 0 && medication.texts.length === 0;
    return [{ record, medication, exposure, unresolved }];
  });
}

export function isCurrent(exposure: MedicationExposure): boolean {
  return exposure.status === 'active' || exposure.status === 'on-hold';
}

/** "active", "on hold", "stopped 24 days ago", "completed today", "stopped, no end date". */
export function describeExposure(exposure: MedicationExposure): string {
  if (exposure.status === 'on-hold') {
    return 'on hold';
  }
  if (exposure.status === 'active') {
    return 'active';
  }
  const days = exposure.daysSinceEnd;
  if (days === null) {
    return `${exposure.status}, no end date`;
  }
  return days === 0
    ? `${exposure.status} today`
    : `${exposure.status} ${days} day${days === 1 ? '' : 's'} ago`;
}

/**
 * Null when the record does not count: never taken (cancelled, draft, intended, not-taken), in
 * error, of unknown status, or ended before the window. A stopped record without an end date counts
 * only when its order or start date lies inside the window (the end cannot be earlier than that).
 */
export function readExposure(
  record: MedicationRecord,
  now: Date,
  windowDays: number,
): MedicationExposure | null {
  const status = record.status as string;
  const nowMs = now.getTime();
  const since = nowMs - windowDays * DAY_MS;
  const end = latestDate(endDatesOf(record));
  const start = latestDate(startDatesOf(record));
  if ((CURRENT_STATUSES as readonly string[]).includes(status)) {
    // A record still "active" whose recorded course ended is judged by that end.
    if (end === null || end.ms > nowMs) {
      return {
        status: status as MedicationExposure['status'],
        endedOn: null,
        daysSinceEnd: null,
        startedOn: null,
      };
    }
  } else if (!(ENDED_STATUSES as readonly string[]).includes(status)) {
    return null;
  }
  const ended = (ENDED_STATUSES as readonly string[]).includes(status)
    ? (status as MedicationExposure['status'])
    : 'completed';
  if (end !== null) {
    if (end.ms < since) {
      return null;
    }
    return {
      status: ended,
      endedOn: end.text,
      daysSinceEnd: Math.max(0, Math.floor((nowMs - end.ms) / DAY_MS)),
      startedOn: null,
    };
  }
  if (start === null || start.ms < since || start.ms > nowMs) {
    return null;
  }
  return { status: ended, endedOn: null, daysSinceEnd: null, startedOn: start.text };
}

function endDatesOf(record: MedicationRecord): Array<string | undefined> {
  if (record.resourceType === 'MedicationStatement') {
    return [
      record.effectivePeriod?.end,
      // A completed statement with a single date records when it was taken.
      record.effectiveDateTime,
    ];
  }
  const dosage: unknown = record.dosageInstruction;
  return [
    record.dispenseRequest?.validityPeriod?.end,
    ...(Array.isArray(dosage) ? dosage : []).map((d: unknown) =>
      isRecord(d) ? (d as fhir4.Dosage).timing?.repeat?.boundsPeriod?.end : undefined,
    ),
  ];
}

function startDatesOf(record: MedicationRecord): Array<string | undefined> {
  return record.resourceType === 'MedicationStatement'
    ? [record.effectivePeriod?.start, record.dateAsserted]
    : [record.authoredOn, record.dispenseRequest?.validityPeriod?.start];
}

function latestDate(values: ReadonlyArray<unknown>): { text: string; ms: number } | null {
  let latest: { text: string; ms: number } | null = null;
  for (const value of values) {
    if (typeof value !== 'string') {
      continue;
    }
    const ms = Date.parse(value);
    if (!Number.isNaN(ms) && (latest === null || ms > latest.ms)) {
      latest = { text: value, ms };
    }
  }
  return latest;
}

/** One medication record (a draft order too) as a description the matcher reads. */
export function describeMedication(
  record: MedicationRecord,
  supplied: readonly fhir4.Medication[],
): MedicationDescription {
  const concept = record.medicationCodeableConcept;
  if (concept !== undefined) {
    return describeConcept(concept);
  }
  const reference = record.medicationReference;
  const display = typeof reference?.display === 'string' ? reference.display : undefined;
  const medication = resolveMedication(record, supplied);
  if (medication === undefined) {
    return { codings: [], texts: display === undefined ? [] : [display] };
  }
  return describeMedicationResource(medication, display);
}

/**
 * The Medication a record points to: contained (`#id`), or supplied beside it (by `_include`, or
 * in another prefetch key) as `Medication/id`, an absolute URL ending in it, or a versioned form.
 */
export function resolveMedication(
  record: MedicationRecord,
  supplied: readonly fhir4.Medication[],
): fhir4.Medication | undefined {
  const target = record.medicationReference?.reference;
  if (typeof target !== 'string') {
    return undefined;
  }
  if (target.startsWith('#')) {
    return (Array.isArray(record.contained) ? record.contained : []).find(
      (resource): resource is fhir4.Medication =>
        isRecord(resource) &&
        resource.resourceType === 'Medication' &&
        `#${resource.id ?? ''}` === target,
    );
  }
  const match = /(?:^|\/)Medication\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(target);
  const id = match?.[1];
  return id === undefined ? undefined : supplied.find((resource) => resource.id === id);
}

function findAbdominalImaging(sources: ContextSources, rules: ContextRules): ImagingRecord | null {
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
    if (!(isAbdominalUs && isDone && time >= since && time <= sources.now.getTime())) {
      return [];
    }
    const report = isResourceOfType<fhir4.DiagnosticReport>(resource, 'DiagnosticReport')
      ? resource
      : null;
    const conclusion =
      typeof report?.conclusion === 'string' && report.conclusion.trim() !== ''
        ? report.conclusion.trim()
        : null;
    return [
      {
        resourceType: resource.resourceType,
        id: resource.id ?? null,
        date: described.date,
        conclusion,
        findings: report === null ? [] : readImagingFindings(report, rules.imaging),
      },
    ];
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

function isCoding(value: unknown): value is fhir4.Coding {
  return isRecord(value);
}

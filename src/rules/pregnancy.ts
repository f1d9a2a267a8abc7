import type { ConditionList, ContextRules } from '../cards/content-schema.js';
import { parseFhirDateTime } from '../engine/instant.js';
import type { Assessment, LabPoint } from '../engine/types.js';
import { isRecord } from '../fhir/guards.js';
import { ICD10_CM, SNOMED_CT } from '../terminology/systems.js';

// Placental ALP (reference §2c): appears from the second trimester, rises through the third and, with
// a half-life of about a week, clears within weeks of delivery; pregnancy does not raise GGT. The
// record gives the dates: pregnancy Conditions (onset, abatement, ICD-10-CM weeks of gestation) and
// Observations (pregnancy status, gestational age, estimated delivery date, last menstrual period,
// delivery date).

type PregnancyRules = ContextRules['pregnancy'];

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** The most recent pregnancy the record shows, with what dates it. */
export interface PregnancyRecord {
  /** Gestational age 0 (first day of the last menstrual period), when the record dates it. */
  lmpMs: number | null;
  /** The earliest record of this pregnancy: gestational age at any later time is at least the gap. */
  earliestPregnantMs: number;
  latestPregnantMs: number;
  deliveryMs: number | null;
  /** A "not pregnant" record after the pregnancy, when no delivery date is known. */
  endedByMs: number | null;
  /** What on the record shows the pregnancy, for the card. */
  evidence: string[];
}

export type PregnancyPhase =
  | 'before-conception'
  | 'first-trimester'
  | 'second-or-third-trimester'
  | 'after-delivery'
  | 'undetermined';

export interface PregnancySources {
  /** Every Condition, whatever its clinical status: a resolved pregnancy dates a delivery. */
  conditions: readonly fhir4.Condition[];
  observations: readonly fhir4.Observation[];
  now: Date;
}

interface Dating {
  recordedMs: number;
  lmpMs: number;
}

const DISCARDED_OBSERVATION_STATUSES = ['entered-in-error', 'cancelled', 'registered'];
const ENDED_CLINICAL_STATUSES = ['inactive', 'resolved', 'remission'];

export function readPregnancy(
  sources: PregnancySources,
  rules: PregnancyRules,
  conditionList: ConditionList,
): PregnancyRecord | null {
  const pregnant: Array<{ ms: number; label: string }> = [];
  const notPregnant: number[] = [];
  const datings: Dating[] = [];
  const deliveries: number[] = [];
  const pregnancyGroup = conditionList.groups.find((group) => group.id === 'pregnancy');

  for (const condition of sources.conditions) {
    if (isDiscardedCondition(condition)) {
      continue;
    }
    const codings = codingsOf(condition.code);
    const onset = parseFhirDateTime(condition.onsetDateTime ?? condition.onsetPeriod?.start);
    const recorded = parseFhirDateTime(condition.recordedDate);
    const dated = Number.isFinite(onset) ? onset : recorded;
    if (codings.some((coding) => matchesGroup(coding, rules.deliveryConditions, conditionList))) {
      if (Number.isFinite(dated)) {
        deliveries.push(dated);
      }
      continue;
    }
    if (
      pregnancyGroup === undefined ||
      !codings.some((c) => matchesGroup(c, pregnancyGroup, conditionList))
    ) {
      continue;
    }
    const label =
      codings.find((coding) => coding.display)?.display ?? condition.code?.text ?? 'Pregnancy';
    const active = !codesOf(condition.clinicalStatus).some((code) =>
      ENDED_CLINICAL_STATUSES.includes(code),
    );
    if (Number.isFinite(dated)) {
      pregnant.push({ ms: dated, label: `${label} (Condition, from ${isoDay(dated)})` });
    }
    if (active) {
      pregnant.push({ ms: sources.now.getTime(), label: `${label} (Condition, active)` });
    }
    const abatement = parseFhirDateTime(
      condition.abatementDateTime ?? condition.abatementPeriod?.start,
    );
    if (!active && Number.isFinite(abatement)) {
      deliveries.push(abatement);
    }
    const weeks = gestationWeeksOfIcd(codings, rules);
    const weeksAt = Number.isFinite(recorded) ? recorded : onset;
    if (weeks !== null && Number.isFinite(weeksAt)) {
      datings.push({ recordedMs: weeksAt, lmpMs: weeksAt - weeks * WEEK_MS });
    }
  }

  const lmpOnly: Dating[] = [];
  for (const observation of sources.observations) {
    if (DISCARDED_OBSERVATION_STATUSES.includes(observation.status)) {
      continue;
    }
    const codings = codingsOf(observation.code);
    const at = parseFhirDateTime(
      observation.effectiveDateTime ?? observation.effectivePeriod?.start ?? observation.issued,
    );
    if (!Number.isFinite(at)) {
      continue;
    }
    const has = (list: PregnancyRules['statusCodes']) =>
      codings.some((coding) =>
        list.some((k) => k.system === coding.system && k.code === coding.code),
      );
    if (has(rules.statusCodes)) {
      const values = codingsOf(observation.valueCodeableConcept);
      const isValue = (list: PregnancyRules['pregnantValues']) =>
        values.some((v) => list.some((k) => k.system === v.system && k.code === v.code));
      if (isValue(rules.pregnantValues)) {
        pregnant.push({ ms: at, label: `Pregnancy status: pregnant (${isoDay(at)})` });
      } else if (isValue(rules.notPregnantValues)) {
        notPregnant.push(at);
      }
    } else if (has(rules.gestationalAgeCodes)) {
      const days = gestationDaysOf(observation.valueQuantity, codings, rules);
      if (days !== null) {
        datings.push({ recordedMs: at, lmpMs: at - days * DAY_MS });
        pregnant.push({
          ms: at,
          label: `Gestational age ${Math.floor(days / 7)} weeks (${isoDay(at)})`,
        });
      }
    } else if (has(rules.estimatedDeliveryDateCodes)) {
      const edd = parseFhirDateTime(observation.valueDateTime);
      if (Number.isFinite(edd) && at < edd) {
        datings.push({ recordedMs: at, lmpMs: edd - rules.estimatedDeliveryAtDays * DAY_MS });
        pregnant.push({ ms: at, label: `Estimated delivery date ${isoDay(edd)}` });
      }
    } else if (has(rules.lastMenstrualPeriodCodes)) {
      const lmp = parseFhirDateTime(observation.valueDateTime);
      if (Number.isFinite(lmp)) {
        lmpOnly.push({ recordedMs: at, lmpMs: lmp });
      }
    } else if (has(rules.deliveryDateCodes)) {
      const delivered = parseFhirDateTime(
        observation.valueDateTime ?? observation.effectiveDateTime,
      );
      if (Number.isFinite(delivered)) {
        deliveries.push(delivered);
      }
    }
  }

  if (pregnant.length === 0) {
    return null;
  }
  // The latest pregnancy only: records of an earlier one must not date this one.
  const latestPregnantMs = Math.max(...pregnant.map((event) => event.ms));
  const episodeStart = latestPregnantMs - rules.maxGestationWeeks * WEEK_MS;
  const episode = pregnant.filter((event) => event.ms >= episodeStart);
  const earliestPregnantMs = Math.min(...episode.map((event) => event.ms));
  // A last menstrual period counts only once the record shows the pregnancy it dates.
  const dating = [...datings, ...lmpOnly]
    .filter(
      (d) => d.lmpMs >= episodeStart - 2 * WEEK_MS && d.lmpMs <= earliestPregnantMs + 2 * WEEK_MS,
    )
    .sort((a, b) => b.recordedMs - a.recordedMs)[0];
  const lmpMs = dating?.lmpMs ?? null;
  const start = lmpMs ?? earliestPregnantMs;
  const deliveryMs =
    deliveries
      .filter((ms) => ms > start && ms <= start + (rules.maxGestationWeeks + 2) * WEEK_MS)
      .sort((a, b) => a - b)[0] ?? null;
  const endedByMs =
    deliveryMs === null
      ? (notPregnant.filter((ms) => ms > latestPregnantMs).sort((a, b) => a - b)[0] ?? null)
      : null;
  return {
    lmpMs,
    earliestPregnantMs,
    latestPregnantMs,
    deliveryMs,
    endedByMs,
    evidence: [...new Set(episode.sort((a, b) => a.ms - b.ms).map((event) => event.label))],
  };
}

/** Where a moment falls in the pregnancy; "undetermined" whenever the record cannot place it. */
export function phaseAt(
  ms: number,
  record: PregnancyRecord,
  rules: PregnancyRules,
): PregnancyPhase {
  if (record.deliveryMs !== null && ms > record.deliveryMs) {
    return 'after-delivery';
  }
  if (record.endedByMs !== null && ms >= record.endedByMs) {
    return 'undetermined';
  }
  const secondTrimester = rules.secondTrimesterFromWeek * WEEK_MS;
  const longest = rules.maxGestationWeeks * WEEK_MS;
  if (record.lmpMs !== null) {
    const age = ms - record.lmpMs;
    if (age < 0) {
      return 'before-conception';
    }
    if (age < secondTrimester) {
      return 'first-trimester';
    }
    return age <= longest ? 'second-or-third-trimester' : 'undetermined';
  }
  // Undated pregnancy: the time since its first record is only a lower bound on its age.
  const atLeast = ms - record.earliestPregnantMs;
  return atLeast >= secondTrimester && atLeast <= longest
    ? 'second-or-third-trimester'
    : 'undetermined';
}

export interface PlacentalExplanation {
  /** "27 wk gestation", "≥ 18 wk gestation", "9 d after delivery". */
  gestation: string;
  evidence: string[];
}

/**
 * Whether placental ALP explains the ALP rise: GGT not raised, ALP within what a placenta makes, the
 * rise beginning and every raised result falling in the second or third trimester, and any result
 * after delivery no higher than a placental ALP clearing with its half-life would leave. A rise that
 * began before conception or in the first trimester, or that keeps climbing after delivery, is not.
 */
export function explainByPregnancy(
  assessment: Assessment,
  record: PregnancyRecord | null,
  rules: PregnancyRules,
): PlacentalExplanation | null {
  const points = assessment.series.ALP.points;
  const latest = points.at(-1);
  if (record === null || latest === undefined || assessment.findings.ggt.status === 'raised') {
    return null;
  }
  if (latest.xUln > rules.placentalMaxXUln) {
    return null;
  }
  const rcvUp = 1 + assessment.series.ALP.trend.rcvUpPct / 100;
  const troughIndex = points.reduce(
    (best, p, i) => (p.value < (points[best]?.value ?? Infinity) ? i : best),
    0,
  );
  const trough = points[troughIndex] ?? latest;
  const onsetIndex = points.findIndex((p, i) => i > troughIndex && p.value > trough.value * rcvUp);
  const judged = points.filter((p, i) => p.xUln > 1 || i === onsetIndex);
  let lastBeforeDelivery: LabPoint | undefined;
  for (const point of points) {
    const phase = phaseAt(point.timeMs, record, rules);
    if (phase !== 'after-delivery') {
      lastBeforeDelivery = point;
    }
    if (!judged.includes(point)) {
      continue;
    }
    if (phase === 'second-or-third-trimester') {
      continue;
    }
    if (
      phase !== 'after-delivery' ||
      record.deliveryMs === null ||
      lastBeforeDelivery === undefined
    ) {
      return null;
    }
    const days = (point.timeMs - record.deliveryMs) / DAY_MS;
    const clearing = lastBeforeDelivery.xUln * 0.5 ** (days / rules.placentalHalfLifeDays);
    if (point.xUln > Math.max(1, clearing) * rcvUp) {
      return null;
    }
  }
  return { gestation: describeGestation(latest.timeMs, record), evidence: record.evidence };
}

function describeGestation(ms: number, record: PregnancyRecord): string {
  if (record.deliveryMs !== null && ms > record.deliveryMs) {
    return `${Math.floor((ms - record.deliveryMs) / DAY_MS)} d after delivery`;
  }
  if (record.lmpMs !== null) {
    return `${Math.floor((ms - record.lmpMs) / WEEK_MS)} wk gestation`;
  }
  return `≥ ${Math.floor((ms - record.earliestPregnantMs) / WEEK_MS)} wk gestation`;
}

function gestationDaysOf(
  quantity: fhir4.Quantity | undefined,
  codings: fhir4.Coding[],
  rules: PregnancyRules,
): number | null {
  if (!isRecord(quantity) || typeof quantity.value !== 'number' || !(quantity.value > 0)) {
    return null;
  }
  const unit = `${quantity.code ?? quantity.unit ?? ''}`.toLowerCase();
  const inDays = /^(?:d|day|days)$/.test(unit) || codings.some((c) => c.code === '49052-4');
  const inWeeks = /^(?:wk|w|week|weeks|wks)$/.test(unit) || (!inDays && unit === '');
  const days = inDays ? quantity.value : inWeeks ? quantity.value * 7 : null;
  return days !== null && days <= (rules.maxGestationWeeks + 2) * 7 ? days : null;
}

/** ICD-10-CM Z3A.08–Z3A.42 name the completed weeks of gestation. */
function gestationWeeksOfIcd(codings: fhir4.Coding[], rules: PregnancyRules): number | null {
  const prefix = rules.gestationWeeksIcdPrefix.code.replace(/\./g, '').toUpperCase();
  for (const coding of codings) {
    if (coding.system !== ICD10_CM || typeof coding.code !== 'string') {
      continue;
    }
    const code = coding.code.replace(/\./g, '').toUpperCase();
    const weeks = Number(code.slice(prefix.length));
    if (code.startsWith(prefix) && code.length === prefix.length + 2 && weeks >= 8 && weeks <= 42) {
      return weeks;
    }
  }
  return null;
}

function matchesGroup(
  coding: fhir4.Coding,
  group: {
    snomed: ReadonlyArray<{ code: string }>;
    icd10cmPrefixes: ReadonlyArray<{ code: string }>;
  },
  list: ConditionList,
): boolean {
  if (typeof coding.code !== 'string' || typeof coding.system !== 'string') {
    return false;
  }
  const code = coding.code;
  if (coding.system === SNOMED_CT || coding.system === list.snomedSystem) {
    return group.snomed.some((entry) => entry.code === code);
  }
  const strip = (value: string) => value.replace(/\./g, '').trim().toUpperCase();
  return (
    list.icdSystems.includes(coding.system) &&
    group.icd10cmPrefixes.some((entry) => strip(code).startsWith(strip(entry.code)))
  );
}

function isDiscardedCondition(condition: fhir4.Condition): boolean {
  return codesOf(condition.verificationStatus).some((code) =>
    ['entered-in-error', 'refuted'].includes(code),
  );
}

function codesOf(concept: fhir4.CodeableConcept | undefined): string[] {
  return codingsOf(concept).flatMap((coding) =>
    typeof coding.code === 'string' ? [coding.code] : [],
  );
}

function codingsOf(concept: fhir4.CodeableConcept | undefined): fhir4.Coding[] {
  const codings: unknown = isRecord(concept) ? concept.coding : undefined;
  return Array.isArray(codings) ? codings.filter((c): c is fhir4.Coding => isRecord(c)) : [];
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

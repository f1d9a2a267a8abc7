import { isBundle, isRecord } from '../fhir/guards.js';
import { belongsToPatient, type PatientScope } from '../fhir/patient-scope.js';
import {
  describeConcept,
  describeMedicationResource,
  type MedicationDescription,
} from './match-medication.js';

export interface DraftMedicationOrder {
  order: fhir4.MedicationRequest;
  /** `MedicationRequest/{id}`, the relative reference a delete action and `selections` use. */
  reference: string | undefined;
  medication: MedicationDescription;
}

export interface DraftOrderSelection {
  orders: DraftMedicationOrder[];
  /** Draft MedicationRequests about another patient, or about no patient: ignored, never judged. */
  otherPatientOrders: number;
}

/**
 * The draft MedicationRequests to judge, read only from the hook context (never the FHIR server):
 * for order-select only the selected ones, for order-sign all of them, and in both cases only those
 * about the patient in context, by the same rule that scopes prefetch.
 * @see https://cds-hooks.org/hooks/order-select/
 */
export function selectDraftMedicationOrders(
  draftOrders: unknown,
  selections: readonly string[] | undefined,
  scope: PatientScope,
): DraftOrderSelection {
  const entries: unknown[] = isBundle(draftOrders) ? (draftOrders.entry ?? []) : [];
  const resources = entries.flatMap((entry) =>
    isRecord(entry) && isRecord(entry.resource)
      ? [entry.resource as unknown as fhir4.Resource]
      : [],
  );
  const medications = resources.filter(
    (resource): resource is fhir4.Medication => resource.resourceType === 'Medication',
  );
  const selected = selections === undefined ? undefined : new Set(selections);
  const orders: DraftMedicationOrder[] = [];
  let otherPatientOrders = 0;
  for (const resource of resources) {
    if (resource.resourceType !== 'MedicationRequest') {
      continue;
    }
    const order = resource as fhir4.MedicationRequest;
    const reference = order.id === undefined ? undefined : `MedicationRequest/${order.id}`;
    if (selected !== undefined && (reference === undefined || !selected.has(reference))) {
      continue;
    }
    if (!belongsToPatient(order, scope)) {
      otherPatientOrders += 1;
      continue;
    }
    orders.push({ order, reference, medication: describeOrderedDrug(order, medications) });
  }
  return { orders, otherPatientOrders };
}

/** The drug of a MedicationRequest: its concept, or the Medication it refers to (contained or in the Bundle). */
function describeOrderedDrug(
  order: fhir4.MedicationRequest,
  bundled: readonly fhir4.Medication[],
): MedicationDescription {
  if (order.medicationCodeableConcept !== undefined) {
    return describeConcept(order.medicationCodeableConcept);
  }
  const reference = order.medicationReference;
  const display = typeof reference?.display === 'string' ? reference.display : undefined;
  const target = typeof reference?.reference === 'string' ? reference.reference : '';
  const contained = (order.contained ?? []).filter(
    (resource): resource is fhir4.Medication => resource.resourceType === 'Medication',
  );
  const medication = target.startsWith('#')
    ? contained.find((candidate) => `#${candidate.id ?? ''}` === target)
    : bundled.find(
        (candidate) => candidate.id !== undefined && target.endsWith(`Medication/${candidate.id}`),
      );
  if (medication !== undefined) {
    return describeMedicationResource(medication, display);
  }
  return { codings: [], texts: display === undefined ? [] : [display] };
}

import { randomUUID } from 'node:crypto';
import type { Suggestion } from '../cds/schemas.js';
import type { SuggestionTemplate } from './content-schema.js';

export interface OrderContext {
  patientId: string;
  /** Observations that motivate the order; each becomes a reasonReference. */
  reasonObservationIds: readonly string[];
  authoredOn: string;
}

/**
 * One suggestion per template, one `create` action per order in it, so a panel such as the
 * autoimmune serology is accepted in one click yet lands as separately resultable requests.
 * @see https://cds-hooks.hl7.org/2.0/#suggestion
 */
export function buildSuggestion(template: SuggestionTemplate, context: OrderContext): Suggestion {
  return {
    label: template.label,
    uuid: randomUUID(),
    actions: template.orders.map((order) => ({
      type: 'create' as const,
      description: `Propose: ${order.text}`,
      resource: buildServiceRequest(order, context),
    })),
  };
}

/**
 * A draft proposal, not an order: the clinician who accepts it decides whether to sign it.
 * @see https://hl7.org/fhir/R4/servicerequest.html
 */
export function buildServiceRequest(
  order: SuggestionTemplate['orders'][number],
  context: OrderContext,
): fhir4.ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'proposal',
    category: [{ coding: [{ ...order.category }] }],
    code: {
      coding: order.codings.map((coding) => ({ ...coding })),
      text: order.text,
    },
    subject: { reference: `Patient/${context.patientId}` },
    authoredOn: context.authoredOn,
    reasonReference: context.reasonObservationIds.map((id) => ({ reference: `Observation/${id}` })),
  };
}

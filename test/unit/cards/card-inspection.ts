import type { Card } from '../../../src/cds/schemas.js';
import type { CardKind, SuggestionId } from '../../../src/cards/content-schema.js';
import type { CardContent } from '../../../src/cards/load-content.js';

// Cards carry no machine-readable kind, so tests recognise them the way a reviewer would: by the
// summary template they were filled from, and by the label of each suggestion.

function templatePattern(template: string): RegExp {
  const escaped = template
    .split(/\{\{\s*[A-Za-z][A-Za-z0-9]*\s*\}\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${escaped}$`);
}

export function kindOf(card: Card, content: CardContent): CardKind | null {
  for (const kind of [
    content.cholestaticShift,
    content.nonHepaticAlp,
    content.medicationReview,
    content.twoResults,
    content.placentalAlp,
    content.overlapAlp,
  ]) {
    const templates = Object.values(kind.summary);
    if (templates.some((template) => templatePattern(template).test(card.summary))) {
      return kind.kind;
    }
  }
  return null;
}

export function suggestionIdsOf(card: Card, content: CardContent): Array<SuggestionId | null> {
  const templates = [
    ...content.cholestaticShift.suggestions,
    ...content.nonHepaticAlp.suggestions,
    ...content.medicationReview.suggestions,
    ...content.twoResults.suggestions,
    ...content.placentalAlp.suggestions,
    ...content.overlapAlp.suggestions,
  ];
  return (card.suggestions ?? []).map(
    (suggestion) => templates.find((template) => template.label === suggestion.label)?.id ?? null,
  );
}

/** Every ServiceRequest proposed by a card, in order. */
export function serviceRequestsOf(card: Card): fhir4.ServiceRequest[] {
  return (card.suggestions ?? []).flatMap((suggestion) =>
    (suggestion.actions ?? []).flatMap((action) =>
      action.resource !== undefined && isServiceRequest(action.resource) ? [action.resource] : [],
    ),
  );
}

function isServiceRequest(resource: fhir4.Resource): resource is fhir4.ServiceRequest {
  return resource.resourceType === 'ServiceRequest';
}

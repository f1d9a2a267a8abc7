import { CardSchema, type Card } from '../../../src/cds/schemas.js';
import type { HookInvocation } from '../../../src/cds/service.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { createLiverTrendsService } from '../../../hooks/liver-trends.js';
import {
  SCENARIOS,
  SCENARIO_NOW,
  buildScenarioPrefetch,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { kindOf, serviceRequestsOf, suggestionIdsOf } from './card-inspection.js';

const content = loadCardContent();
const service = createLiverTrendsService(content);

function invocationFor(scenario: Scenario): HookInvocation {
  return {
    request: {
      hook: 'patient-view',
      hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
      context: { patientId: 'pat-1', userId: 'Practitioner/example' },
    },
    data: buildScenarioPrefetch(scenario),
    now: SCENARIO_NOW,
    lookbackDays: 180,
  };
}

function describeExpectation(scenario: Scenario): string {
  if (scenario.cards.length === 0) {
    return 'returns no cards';
  }
  return `returns ${scenario.cards
    .map(
      (card) =>
        `${card.indicator === 'info' ? 'an' : 'a'} ${card.indicator} ${card.kind} card${
          card.suggestions.length > 0 ? ` suggesting ${card.suggestions.join(', ')}` : ''
        }`,
    )
    .join(' and ')}`;
}

describe('liver-trends scenarios', () => {
  const table = SCENARIOS.map(
    (scenario) => [`${scenario.story}, ${describeExpectation(scenario)}`, scenario] as const,
  );

  it.each(table)('%s', async (_title, scenario) => {
    const { cards } = await service.handle(invocationFor(scenario));

    expect(cards.map((card) => kindOf(card, content))).toEqual(
      scenario.cards.map((card) => card.kind),
    );
    scenario.cards.forEach((expected, index) => {
      const card: Card = cards[index]!;
      expect(CardSchema.safeParse(card).error?.issues).toBeUndefined();
      expect(card.indicator).toBe(expected.indicator);
      expect(suggestionIdsOf(card, content)).toEqual(expected.suggestions);
      expect(card.selectionBehavior).toBe(expected.suggestions.length > 0 ? 'any' : undefined);
      for (const text of expected.summaryIncludes ?? []) {
        expect(card.summary).toContain(text);
      }
      for (const text of expected.detailIncludes ?? []) {
        expect(card.detail).toContain(text);
      }
      for (const text of expected.detailExcludes ?? []) {
        expect(card.detail).not.toContain(text);
      }
      for (const request of serviceRequestsOf(card)) {
        for (const excluded of scenario.excludedObservationIds ?? []) {
          expect(request.reasonReference).not.toContainEqual({
            reference: `Observation/${excluded}`,
          });
        }
      }
    });
  });

  it('When every scenario has run, each card kind and every suggestion has been produced at least once', async () => {
    const kinds = new Set<string>();
    const suggestions = new Set<string>();
    for (const scenario of SCENARIOS) {
      const { cards } = await service.handle(invocationFor(scenario));
      for (const card of cards) {
        kinds.add(kindOf(card, content) ?? 'unknown');
        suggestionIdsOf(card, content).forEach((id) => suggestions.add(id ?? 'unknown'));
      }
    }
    expect([...kinds].sort()).toEqual([
      'cholestatic-shift',
      'medication-review',
      'non-hepatic-alp',
    ]);
    expect([...suggestions].sort()).toEqual([
      'abdominal-ultrasound',
      'autoimmune-panel',
      'bone-alp',
      'fractionated-bilirubin',
      'ggt',
      'mrcp',
    ]);
  });
});

import { CardSchema, type Card } from '../../../src/cds/schemas.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { createLiverTrendsService } from '../../../hooks/liver-trends.js';
import { ENGINE_SCENARIOS } from '../../fixtures/scenarios-engine.js';
import { SCENARIO_NOW, buildScenarioPrefetch, type Scenario } from '../../fixtures/scenarios.js';
import { kindOf, suggestionIdsOf } from './card-inspection.js';

const content = loadCardContent();
const service = createLiverTrendsService(content);

async function cardsFor(scenario: Scenario): Promise<Card[]> {
  const { cards } = await service.handle({
    request: {
      hook: 'patient-view',
      hookInstance: '5b0e8c4e-5d0f-4a57-9b3e-2f7a1c6d9e10',
      context: { patientId: 'pat-1', userId: 'Practitioner/example' },
    },
    data: buildScenarioPrefetch(scenario),
    now: SCENARIO_NOW,
    lookbackDays: 180,
  });
  return cards;
}

describe('liver-trends on children, method changes, regime changes and two results', () => {
  const table = ENGINE_SCENARIOS.map((scenario) => [scenario.story, scenario] as const);

  it.each(table)('%s', async (_title, scenario) => {
    const cards = await cardsFor(scenario);

    expect(cards.map((card) => kindOf(card, content))).toEqual(
      scenario.cards.map((card) => card.kind),
    );
    scenario.cards.forEach((expected, index) => {
      const card = cards[index]!;
      expect(CardSchema.safeParse(card).error?.issues).toBeUndefined();
      expect(card.indicator).toBe(expected.indicator);
      expect(suggestionIdsOf(card, content)).toEqual(expected.suggestions);
      for (const text of expected.summaryIncludes ?? []) {
        expect(card.summary).toContain(text);
      }
      for (const text of expected.detailIncludes ?? []) {
        expect(card.detail).toContain(text);
      }
      for (const text of expected.detailExcludes ?? []) {
        expect(card.detail).not.toContain(text);
      }
    });
  });
});

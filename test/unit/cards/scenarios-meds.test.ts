import { CardSchema, type Card } from '../../../src/cds/schemas.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { createLiverTrendsService } from '../../../hooks/liver-trends.js';
import {
  MEDS_NOW,
  MEDS_SCENARIOS,
  buildMedsPrefetch,
  type MedsScenario,
} from '../../fixtures/scenarios-meds.js';
import { kindOf } from './card-inspection.js';

const content = loadCardContent();
const service = createLiverTrendsService(content);
const INDICATOR_RANK = { critical: 0, warning: 1, info: 2 } as const;

async function cardsFor(scenario: MedsScenario): Promise<Card[]> {
  const { cards } = await service.handle({
    request: {
      hook: 'patient-view',
      hookInstance: '0b7f4d4e-3f1c-4a55-9d0e-2f2f6a3f0c11',
      context: { patientId: scenario.patient.id ?? 'pat-meds', userId: 'Practitioner/example' },
    },
    data: buildMedsPrefetch(scenario),
    now: MEDS_NOW,
    lookbackDays: 180,
  });
  return cards;
}

describe.each([7, 9] as const)('fidelity class %i patients', (fidelityClass) => {
  const table = MEDS_SCENARIOS.filter((s) => s.fidelityClass === fidelityClass).map(
    (scenario) => [scenario.story, scenario] as const,
  );

  it('has at least three patients', () => {
    expect(table.length).toBeGreaterThanOrEqual(3);
  });

  it.each(table)('%s', async (_story, scenario) => {
    const cards = await cardsFor(scenario);

    expect(cards.map((card) => `${kindOf(card, content)}:${card.indicator}`)).toEqual(
      scenario.cards.map((card) => `${card.kind}:${card.indicator}`),
    );
    const ranks = cards.map((card) => INDICATOR_RANK[card.indicator]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    scenario.cards.forEach((expected, index) => {
      const card = cards[index]!;
      expect(CardSchema.safeParse(card).error?.issues).toBeUndefined();
      for (const text of expected.summaryIncludes ?? []) {
        expect(card.summary).toContain(text);
      }
      for (const text of expected.summaryExcludes ?? []) {
        expect(card.summary).not.toContain(text);
      }
      for (const text of expected.detailIncludes ?? []) {
        expect(card.detail).toContain(text);
      }
      for (const pattern of expected.detailExcludes ?? []) {
        expect(card.detail).not.toMatch(pattern);
      }
    });
  });
});

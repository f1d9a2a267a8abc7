import { CardSchema } from '../../../src/cds/schemas.js';
import type { HookInvocation } from '../../../src/cds/service.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { createLiverTrendsService } from '../../../hooks/liver-trends.js';
import { applyRules, type CholestaticShiftRecommendation } from '../../../src/rules/apply-rules.js';
import { CONTEXT_SCENARIOS } from '../../fixtures/scenarios-context.js';
import {
  SCENARIO_NOW,
  assessScenario,
  buildScenarioPrefetch,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { kindOf, suggestionIdsOf } from './card-inspection.js';

const content = loadCardContent();
const service = createLiverTrendsService(content);

function invocationFor(scenario: Scenario): HookInvocation {
  return {
    request: {
      hook: 'patient-view',
      hookInstance: '6b1f2f8e-3f5e-4b59-9a43-5f1c1f0b6d1e',
      context: { patientId: 'pat-1', userId: 'Practitioner/example' },
    },
    data: buildScenarioPrefetch(scenario),
    now: SCENARIO_NOW,
    lookbackDays: 180,
  };
}

function shiftOf(scenario: Scenario): CholestaticShiftRecommendation | undefined {
  const { assessment, context } = assessScenario(scenario, content);
  return applyRules(assessment, context, content.contextRules).find(
    (r): r is CholestaticShiftRecommendation => r.kind === 'cholestatic-shift',
  );
}

describe('liver-trends on records whose context decides the card', () => {
  it.each(CONTEXT_SCENARIOS.map((scenario) => [scenario.story, scenario] as const))(
    '%s',
    async (_story, scenario) => {
      const { cards } = await service.handle(invocationFor(scenario));

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
    },
  );

  const ranked = CONTEXT_SCENARIOS.flatMap((scenario) =>
    scenario.topCause === undefined ? [] : [[scenario.story, scenario.topCause, scenario] as const],
  );
  it.each(ranked)('%s, ranks %s first', (_story, topCause, scenario) => {
    expect(shiftOf(scenario)?.differential[0]?.id).toBe(topCause);
  });

  const warned = CONTEXT_SCENARIOS.flatMap((scenario) =>
    scenario.pitfalls === undefined ? [] : [[scenario.story, scenario.pitfalls, scenario] as const],
  );
  it.each(warned)('%s, warns of %j', (_story, pitfalls, scenario) => {
    expect(shiftOf(scenario)?.pitfalls).toEqual(pitfalls);
  });
});

import request from 'supertest';
import { assembleService } from '../../../src/assemble-service.js';
import type { Card } from '../../../src/cds/schemas.js';
import { loadConfig } from '../../../src/config.js';
import { buildLab } from '../../fixtures/observation.js';
import { SCENARIOS, SCENARIO_NOW, buildScenarioPrefetch } from '../../fixtures/scenarios.js';

// One implausible number, in a value or in a lab's range, never makes a critical card.

const classic = SCENARIOS.find((scenario) => scenario.id === 'classic-shift')!;

async function cardsFor(observations: fhir4.Observation[]): Promise<Card[]> {
  const { app } = await assembleService(
    loadConfig({ LOG_LEVEL: 'silent', EMBEDDED_FHIR: 'false' }),
    {
      processMetrics: false,
      now: () => SCENARIO_NOW,
    },
  );
  const res = await request(app)
    .post('/cds-services/liver-trends')
    .send({
      hook: 'patient-view',
      hookInstance: '8d2c4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f',
      context: { userId: 'Practitioner/example', patientId: 'pat-1' },
      prefetch: { ...buildScenarioPrefetch({ ...classic, observations }) },
    })
    .expect(200);
  return res.body.cards;
}

function largestXUln(cards: Card[]): number {
  const multiples = cards.flatMap((card) =>
    [...`${card.summary} ${card.detail ?? ''}`.matchAll(/([\d.,]+)×ULN/g)].map((m) =>
      Number((m[1] ?? '0').replace(/,/g, '')),
    ),
  );
  return Math.max(0, ...multiples);
}

describe('Implausible numbers over HTTP', () => {
  it('An ALP range with a ULN of 0.001 U/L gives the default ULN, no critical card and a note', async () => {
    const newest = buildLab({ analyte: 'ALP', value: 400, refHigh: 0.001, id: 'alp-tiny-uln' });

    const cards = await cardsFor([...classic.observations, newest]);

    expect(cards.map((card) => card.indicator)).not.toContain('critical');
    expect(largestXUln(cards)).toBeLessThan(10);
    expect(cards[0]?.detail).toContain('implausible upper limit of normal');
  });

  it('An ALP of 380 000 U/L is excluded with its reason, not read as 3 000×ULN', async () => {
    const newest = buildLab({ analyte: 'ALP', value: 380_000, refHigh: 120, id: 'alp-huge' });

    const cards = await cardsFor([...classic.observations, newest]);

    expect(cards.map((card) => card.indicator)).not.toContain('critical');
    expect(largestXUln(cards)).toBeLessThan(10);
    expect(cards[0]?.detail).toContain('above the plausible maximum');
  });
});

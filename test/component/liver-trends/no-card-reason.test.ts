import request from 'supertest';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import { buildLabSeries } from '../../fixtures/observation.js';
import {
  SCENARIOS,
  SCENARIO_NOW,
  buildScenarioPrefetch,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { captureLog } from '../ops/log-capture.js';

// Every silent answer says why: a debug line with `noCardReason`, and a count per reason on /metrics.

const HOOK_URL = '/cds-services/liver-trends';

function scenario(id: string): Scenario {
  const found = SCENARIOS.find((s) => s.id === id);
  if (found === undefined) {
    throw new Error(`no scenario ${id}`);
  }
  return found;
}

const classic = scenario('classic-shift');
const noAlp: Scenario = {
  ...classic,
  observations: classic.observations.filter((obs) => !obs.id?.startsWith('alp')),
};
const alpFalling: Scenario = {
  ...classic,
  observations: [
    ...classic.observations.filter((obs) => !obs.id?.startsWith('alp')),
    ...buildLabSeries({ analyte: 'ALP', values: [380, 300, 240, 190, 150], refHigh: 120 }),
  ],
};
const bothRising: Scenario = {
  ...classic,
  observations: [
    ...classic.observations.filter((obs) => !/^(alt|ast)/.test(obs.id ?? '')),
    ...buildLabSeries({ analyte: 'ALT', values: [40, 60, 90, 130, 200], refHigh: 40 }),
    ...buildLabSeries({ analyte: 'AST', values: [40, 60, 90, 130, 200], refHigh: 40 }),
  ],
};

describe('Why no card', () => {
  it.each([
    ['no ALP result', noAlp, 'no-data'],
    ['a single result', scenario('single-result'), 'too-few-points'],
    ['a stable ALP', scenario('stable'), 'stable'],
    ['an ALP rise within biological variation', scenario('noise'), 'noise'],
    ['a falling ALP', alpFalling, 'alp-falling'],
    ['aminotransferases rising with ALP', bothRising, 'aminotransferases-not-falling'],
    ['ALP below its ULN', scenario('within-normal'), 'within-uln'],
  ])('With %s, logs and counts %s', async (_name, patient, reason) => {
    const log = captureLog();
    const { app } = await assembleService(
      loadConfig({ LOG_LEVEL: 'debug', EMBEDDED_FHIR: 'false' }),
      { logDestination: log, processMetrics: false, now: () => SCENARIO_NOW },
    );
    const res = await request(app)
      .post(HOOK_URL)
      .send({
        hook: 'patient-view',
        hookInstance: '5e1b7a40-3c2d-4f6e-8a9b-0c1d2e3f4a5b',
        context: { userId: 'Practitioner/example', patientId: 'pat-1' },
        prefetch: buildScenarioPrefetch(patient),
      })
      .expect(200);

    expect(res.body.cards).toEqual([]);
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ level: 'debug', noCardReason: reason, msg: 'no card' }),
    );
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toContain(
      `cds_no_card_total{service="liver-trends",reason="${reason}"} 1`,
    );
  });
});

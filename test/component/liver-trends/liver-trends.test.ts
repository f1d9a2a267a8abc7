import type { ParsedUrlQuery } from 'node:querystring';
import nock from 'nock';
import request from 'supertest';
import { assembleService } from '../../../src/assemble-service.js';
import { CdsResponseSchema, type Card } from '../../../src/cds/schemas.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { loadConfig } from '../../../src/config.js';
import { services } from '../../../hooks/index.js';
import {
  SCENARIOS,
  SCENARIO_NOW,
  buildScenarioPrefetch,
  toSearchset,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { kindOf, serviceRequestsOf, suggestionIdsOf } from '../../unit/cards/card-inspection.js';

const FHIR_BASE = 'https://ehr.example.org/fhir';
const TOKEN = 'fhir-token-liver-trends';
const HOOK_URL = '/cds-services/liver-trends';
const content = loadCardContent();

async function buildApp() {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    EMBEDDED_FHIR: 'false',
    FHIR_TIMEOUT_MS: '2000',
    HOOK_DEADLINE_MS: '5000',
    FHIR_SERVER_ALLOWLIST: new URL(FHIR_BASE).origin,
  });
  const { app } = await assembleService(config, {
    services,
    now: () => SCENARIO_NOW,
    fhirRetryDelayMs: () => 0,
    processMetrics: false,
  });
  return app;
}

function hookRequest(prefetch?: Record<string, fhir4.Resource>) {
  return {
    hook: 'patient-view',
    hookInstance: '7c1e5a7e-2b0d-4a4e-9a3c-0c7f5f1e9b11',
    fhirServer: FHIR_BASE,
    fhirAuthorization: {
      access_token: TOKEN,
      token_type: 'Bearer',
      expires_in: 300,
      scope:
        'user/Patient.read user/Observation.read user/Condition.read user/MedicationRequest.read user/DiagnosticReport.read',
      subject: 'hepatic-trends-cds',
    },
    context: { userId: 'Practitioner/example', patientId: 'pat-1' },
    ...(prefetch === undefined ? {} : { prefetch }),
  };
}

/** A FHIR server that answers the service's five queries from a scenario, recording each query. */
function serveScenario(scenario: Scenario, queries: Array<Record<string, string>>) {
  const record = (query: ParsedUrlQuery) => {
    queries.push(
      Object.fromEntries(
        Object.entries(query).map(([key, value]) => [
          key,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      ),
    );
    return true;
  };
  nock(FHIR_BASE)
    .matchHeader('authorization', `Bearer ${TOKEN}`)
    .get('/Patient/pat-1')
    .reply(200, scenario.patient)
    .get('/Observation')
    .query(record)
    .reply(200, toSearchset(scenario.observations))
    .get('/Condition')
    .query(record)
    .reply(200, toSearchset(scenario.conditions))
    .get('/MedicationRequest')
    .query(record)
    .reply(200, toSearchset(scenario.medicationRequests))
    .get('/MedicationStatement')
    .query(record)
    .reply(200, toSearchset([]))
    .get('/DiagnosticReport')
    .query(record)
    .reply(200, toSearchset(scenario.imaging));
}

/** What must be equal between two answers: everything except the minted uuids. */
/** Without what is minted per call: card and suggestion uuids, trend-link ids. */
function comparable(cards: Card[]) {
  return cards.map((card) => ({
    ...card,
    uuid: 'uuid',
    links: card.links?.map((link) => ({
      ...link,
      url: link.url.replace(/\/trends\/[A-Za-z0-9_-]{32}$/, '/trends/<id>'),
    })),
    suggestions: card.suggestions?.map((suggestion) => ({ ...suggestion, uuid: 'uuid' })),
  }));
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
  // nock patches the shared node:http module: left active, it changes later suites in this worker.
  nock.restore();
});

describe('liver-trends over HTTP', () => {
  it('Discovery lists liver-trends for patient-view with its six prefetch templates', async () => {
    const res = await request(await buildApp())
      .get('/cds-services')
      .expect(200);
    const entry = res.body.services.find(
      (service: { id: string }) => service.id === 'liver-trends',
    );

    expect(entry).toMatchObject({ hook: 'patient-view', title: 'Liver chemistry trends' });
    expect(entry.prefetch).toEqual({
      patient: 'Patient/{{context.patientId}}',
      labs: expect.stringMatching(
        /^Observation\?patient=\{\{context\.patientId\}\}&code=http:\/\/loinc\.org\|6768-6,/,
      ),
      conditions: 'Condition?patient={{context.patientId}}',
      medications:
        'MedicationRequest?patient={{context.patientId}}&status=active,on-hold,completed,stopped&_include=MedicationRequest:medication',
      medicationStatements:
        'MedicationStatement?patient={{context.patientId}}&status=active,on-hold,completed,stopped&_include=MedicationStatement:medication',
      imaging: expect.stringMatching(/^DiagnosticReport\?patient=\{\{context\.patientId\}\}&code=/),
    });
  });

  const table = SCENARIOS.map((scenario) => [scenario.story, scenario] as const);

  it.each(table)(
    '%s, gives the same cards from full prefetch as from the FHIR server',
    async (_story, scenario) => {
      const app = await buildApp();
      const queries: Array<Record<string, string>> = [];

      const fromPrefetch = await request(app)
        .post(HOOK_URL)
        .send(hookRequest(buildScenarioPrefetch(scenario)))
        .expect(200);
      serveScenario(scenario, queries);
      const fromServer = await request(app).post(HOOK_URL).send(hookRequest()).expect(200);

      expect(CdsResponseSchema.safeParse(fromPrefetch.body).error?.issues).toBeUndefined();
      expect(CdsResponseSchema.safeParse(fromServer.body).error?.issues).toBeUndefined();
      const cards: Card[] = fromPrefetch.body.cards;
      expect(cards.map((card) => kindOf(card, content))).toEqual(
        scenario.cards.map((card) => card.kind),
      );
      expect(cards.map((card) => card.indicator)).toEqual(
        scenario.cards.map((card) => card.indicator),
      );
      expect(cards.map((card) => suggestionIdsOf(card, content))).toEqual(
        scenario.cards.map((card) => card.suggestions),
      );
      expect(comparable(fromServer.body.cards)).toEqual(comparable(cards));
      expect(nock.isDone()).toBe(true);
    },
  );

  it('When the data come from the FHIR server, asks for the analyte codes newest first, and for current and ended medications with their Medications included', async () => {
    const queries: Array<Record<string, string>> = [];
    serveScenario(SCENARIOS[0]!, queries);

    await request(await buildApp())
      .post(HOOK_URL)
      .send(hookRequest())
      .expect(200);

    const labs = queries.find((query) => query.code?.includes('http://loinc.org|6768-6'));
    expect(labs).toMatchObject({ patient: 'pat-1', _sort: '-date', _count: '200' });
    expect(labs?.code?.split(',')).toEqual(
      expect.arrayContaining([
        'http://loinc.org|1742-6',
        'http://loinc.org|1920-8',
        'http://loinc.org|2324-2',
        'http://loinc.org|1968-7',
      ]),
    );
    expect(queries).toContainEqual({
      patient: 'pat-1',
      status: 'active,on-hold,completed,stopped',
      _include: 'MedicationRequest:medication',
    });
    expect(queries).toContainEqual({
      patient: 'pat-1',
      status: 'active,on-hold,completed,stopped',
      _include: 'MedicationStatement:medication',
    });
    expect(queries).toContainEqual({ patient: 'pat-1' });
  });

  it('When the classic shift is answered over HTTP, every proposed order is a draft ServiceRequest for the patient with reasons', async () => {
    const res = await request(await buildApp())
      .post(HOOK_URL)
      .send(hookRequest(buildScenarioPrefetch(SCENARIOS[1]!)))
      .expect(200);
    const [card] = res.body.cards as Card[];

    expect(card?.selectionBehavior).toBe('any');
    for (const serviceRequest of serviceRequestsOf(card!)) {
      expect(serviceRequest).toMatchObject({
        status: 'draft',
        intent: 'proposal',
        subject: { reference: 'Patient/pat-1' },
      });
      expect(serviceRequest.reasonReference?.length).toBeGreaterThan(0);
    }
  });
});

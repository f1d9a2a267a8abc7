import nock from 'nock';
import request from 'supertest';
import { createApp } from '../../../src/app.js';
import { CdsResponseSchema, type Card } from '../../../src/cds/schemas.js';
import { loadConfig } from '../../../src/config.js';
import { InMemoryFeedbackStore } from '../../../src/stores/feedback-store.js';
import { services } from '../../../hooks/index.js';
import {
  DRUGS,
  buildDraftMedicationRequest,
  buildDraftOrders,
} from '../../fixtures/draft-orders.js';
import { FIXED_NOW, buildLabSeries } from '../../fixtures/observation.js';
import { CONTEXT_SCENARIOS } from '../../fixtures/scenarios-context.js';
import { toSearchset } from '../../fixtures/scenarios.js';

const FHIR_BASE = 'https://ehr.example.org/fhir';
const TOKEN = 'fhir-token-order-hooks';
const SIGN_URL = '/cds-services/liver-trends-order-sign';
const SELECT_URL = '/cds-services/liver-trends-order-select';

const PATIENT: fhir4.Patient = {
  resourceType: 'Patient',
  id: 'pat-1',
  gender: 'female',
  birthDate: '1961-04-02',
};

/** ALP rising to 2.5×ULN while ALT and AST fall: the cholestatic shift. */
const CHOLESTATIC_LABS = [
  ...buildLabSeries({ analyte: 'ALP', values: [130, 200, 300], refHigh: 120, idPrefix: 'alp' }),
  ...buildLabSeries({ analyte: 'ALT', values: [200, 120, 60], refHigh: 40, idPrefix: 'alt' }),
  ...buildLabSeries({ analyte: 'AST', values: [180, 110, 50], refHigh: 40, idPrefix: 'ast' }),
];
const NORMAL_LABS = [
  ...buildLabSeries({ analyte: 'ALP', values: [80, 82, 81], refHigh: 120, idPrefix: 'alp' }),
  ...buildLabSeries({ analyte: 'ALT', values: [25, 24, 26], refHigh: 40, idPrefix: 'alt' }),
];

const amoxClav = buildDraftMedicationRequest({ id: 'draft-amox', drug: DRUGS.amoxClav });
const lisinopril = buildDraftMedicationRequest({ id: 'draft-lis', drug: DRUGS.lisinopril });

function findContextScenario(id: string) {
  const scenario = CONTEXT_SCENARIOS.find((candidate) => candidate.id === id);
  if (scenario === undefined) {
    throw new Error(`no context scenario "${id}"`);
  }
  return scenario;
}

function buildApp() {
  return createApp({
    config: loadConfig({
      LOG_LEVEL: 'silent',
      FHIR_TIMEOUT_MS: '2000',
      HOOK_DEADLINE_MS: '5000',
      FHIR_SERVER_ALLOWLIST: new URL(FHIR_BASE).origin,
    }),
    services,
    feedbackStore: new InMemoryFeedbackStore(),
    now: () => FIXED_NOW,
    fhirRetryDelayMs: () => 0,
  });
}

function prefetchOf(
  labs: fhir4.Observation[],
  conditions: fhir4.Condition[] = [],
  patient: fhir4.Patient = PATIENT,
): Record<string, fhir4.Resource> {
  return { patient, labs: toSearchset(labs), conditions: toSearchset(conditions) };
}

interface HookCall {
  hook: 'order-sign' | 'order-select';
  orders: fhir4.FhirResource[];
  selections?: string[];
  prefetch?: Record<string, fhir4.Resource>;
  fhirServer?: boolean;
}

function hookRequest(call: HookCall) {
  const withServer = call.fhirServer ?? true;
  return {
    hook: call.hook,
    hookInstance: '3f0e4c1a-7b2d-4e8f-9a61-5c2b8d7e1f40',
    ...(withServer
      ? {
          fhirServer: FHIR_BASE,
          fhirAuthorization: {
            access_token: TOKEN,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'user/Patient.read user/Observation.read',
            subject: 'hepatic-trends-cds',
          },
        }
      : {}),
    context: {
      userId: 'Practitioner/example',
      patientId: 'pat-1',
      draftOrders: buildDraftOrders(call.orders),
      ...(call.selections === undefined ? {} : { selections: call.selections }),
    },
    ...(call.prefetch === undefined ? {} : { prefetch: call.prefetch }),
  };
}

/** A FHIR server holding the patient and the labs; it serves draft orders to nobody. */
function serveLabs(labs: fhir4.Observation[]) {
  return nock(FHIR_BASE)
    .matchHeader('authorization', `Bearer ${TOKEN}`)
    .get('/Patient/pat-1')
    .reply(200, PATIENT)
    .get('/Observation')
    .query((query) => query.patient === 'pat-1' && query._sort === '-date')
    .reply(200, toSearchset(labs))
    .get('/Condition')
    .query({ patient: 'pat-1' })
    .reply(200, toSearchset([]));
}

function expectValid(body: unknown) {
  expect(CdsResponseSchema.safeParse(body).error?.issues).toBeUndefined();
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

describe('order-sign and order-select over HTTP', () => {
  it('Discovery lists one entry per hook, both with the Patient, labs and conditions prefetch of liver-trends', async () => {
    const res = await request(buildApp()).get('/cds-services').expect(200);
    const entries = (res.body.services as Array<{ id: string; hook: string }>).filter((s) =>
      s.id.startsWith('liver-trends-order'),
    );
    const liverTrends = res.body.services.find((s: { id: string }) => s.id === 'liver-trends');

    expect(entries.map((s) => [s.id, s.hook])).toEqual([
      ['liver-trends-order-sign', 'order-sign'],
      ['liver-trends-order-select', 'order-select'],
    ]);
    for (const entry of res.body.services.filter((s: { id: string }) =>
      s.id.startsWith('liver-trends-order'),
    )) {
      expect(entry.prefetch).toEqual({
        patient: liverTrends.prefetch.patient,
        labs: liverTrends.prefetch.labs,
        conditions: liverTrends.prefetch.conditions,
      });
    }
  });

  describe.each([
    ['order-sign', SIGN_URL, undefined],
    ['order-select', SELECT_URL, ['MedicationRequest/draft-amox']],
  ] as const)('%s', (hook, url, selections) => {
    const call = (extra: Partial<HookCall> = {}): HookCall => ({
      hook,
      orders: [amoxClav],
      ...(selections === undefined ? {} : { selections: [...selections] }),
      ...extra,
    });

    it('When amoxicillin–clavulanate is ordered for a patient with a cholestatic shift, warns with the drug, ALP ×ULN and trend, and offers delete or monitor', async () => {
      const res = await request(buildApp())
        .post(url)
        .send(hookRequest(call({ prefetch: prefetchOf(CHOLESTATIC_LABS) })))
        .expect(200);
      expectValid(res.body);
      const cards = res.body.cards as Card[];

      expect(cards).toHaveLength(1);
      const card = cards[0]!;
      expect(card.indicator).toBe('warning');
      expect(card.summary).toContain('Amoxicillin–clavulanate');
      expect(card.summary).toContain('ALP is 2.5×ULN and rising');
      expect(card.detail).toContain('Cholestatic shift');
      expect(card.links?.map((link) => link.url)).toEqual([
        expect.stringContaining('ncbi.nlm.nih.gov/books/NBK547852'),
      ]);
      expect(card.overrideReasons?.map((reason) => reason.code)).toEqual([
        'benefit-outweighs-risk',
        'no-alternative',
        'monitoring-planned',
      ]);
      expect(card.selectionBehavior).toBe('at-most-one');
      const [remove, monitor] = card.suggestions ?? [];
      expect(remove?.actions).toEqual([
        {
          type: 'delete',
          description: expect.stringContaining('Amoxicillin–clavulanate'),
          resourceId: 'MedicationRequest/draft-amox',
        },
      ]);
      const created = monitor?.actions?.[0];
      expect(created?.type).toBe('create');
      expect(created?.resource).toMatchObject({
        resourceType: 'ServiceRequest',
        status: 'draft',
        intent: 'proposal',
        code: { coding: expect.arrayContaining([expect.objectContaining({ code: '24325-3' })]) },
        subject: { reference: 'Patient/pat-1' },
        occurrencePeriod: { start: '2026-06-15', end: '2026-06-29' },
      });
    });

    it('Without prefetch, reads the Patient and labs from fhirServer and gives the same warning', async () => {
      const scope = serveLabs(CHOLESTATIC_LABS);

      const res = await request(buildApp()).post(url).send(hookRequest(call())).expect(200);
      expectValid(res.body);

      expect(res.body.cards.map((card: Card) => card.indicator)).toEqual(['warning']);
      expect(scope.isDone()).toBe(true);
    });

    it('Gives no card for a drug not on the cholestatic list', async () => {
      const res = await request(buildApp())
        .post(url)
        .send(
          hookRequest(
            call({
              orders: [lisinopril],
              ...(selections === undefined ? {} : { selections: ['MedicationRequest/draft-lis'] }),
              prefetch: prefetchOf(CHOLESTATIC_LABS),
            }),
          ),
        )
        .expect(200);

      expect(res.body).toEqual({ cards: [] });
    });

    it('Gives no card when the liver tests are normal and stable, with or without prefetch', async () => {
      const fromPrefetch = await request(buildApp())
        .post(url)
        .send(hookRequest(call({ prefetch: prefetchOf(NORMAL_LABS) })))
        .expect(200);
      serveLabs(NORMAL_LABS);
      const fromServer = await request(buildApp()).post(url).send(hookRequest(call())).expect(200);

      expect(fromPrefetch.body).toEqual({ cards: [] });
      expect(fromServer.body).toEqual({ cards: [] });
    });

    it('Ignores a draft order for another patient', async () => {
      const foreign = buildDraftMedicationRequest({
        id: 'draft-amox',
        drug: DRUGS.amoxClav,
        patientId: 'someone-else',
      });
      const res = await request(buildApp())
        .post(url)
        .send(hookRequest(call({ orders: [foreign], prefetch: prefetchOf(CHOLESTATIC_LABS) })))
        .expect(200);

      expect(res.body).toEqual({ cards: [] });
    });

    it('Gives 412 when the labs were not prefetched and there is no fhirServer', async () => {
      const res = await request(buildApp())
        .post(url)
        .send(hookRequest(call({ fhirServer: false, prefetch: { patient: PATIENT } })))
        .expect(412);

      expect(JSON.stringify(res.body)).toContain('labs');
    });

    it('Answers 400 when draftOrders is missing', async () => {
      const body = hookRequest(call({ prefetch: prefetchOf(CHOLESTATIC_LABS) }));
      const context: Record<string, unknown> = { ...body.context };
      delete context.draftOrders;

      const res = await request(buildApp())
        .post(url)
        .send({ ...body, context })
        .expect(400);

      expect(JSON.stringify(res.body)).toContain('draftOrders');
    });
  });

  it('order-select judges only the selected orders: a cholestatic draft that is not selected gives no card', async () => {
    const res = await request(buildApp())
      .post(SELECT_URL)
      .send(
        hookRequest({
          hook: 'order-select',
          orders: [amoxClav, lisinopril],
          selections: ['MedicationRequest/draft-lis'],
          prefetch: prefetchOf(CHOLESTATIC_LABS),
        }),
      )
      .expect(200);

    expect(res.body).toEqual({ cards: [] });
  });

  it('order-sign judges every draft order and names each cholestatic one in its own card', async () => {
    const brand = buildDraftMedicationRequest({ id: 'draft-aug', drug: DRUGS.augmentinByBrand });
    const res = await request(buildApp())
      .post(SIGN_URL)
      .send(
        hookRequest({
          hook: 'order-sign',
          orders: [amoxClav, lisinopril, brand],
          prefetch: prefetchOf(CHOLESTATIC_LABS),
        }),
      )
      .expect(200);

    expect(
      (res.body.cards as Card[]).map((card) => card.suggestions?.[0]?.actions?.[0]?.resourceId),
    ).toEqual(['MedicationRequest/draft-amox', 'MedicationRequest/draft-aug']);
  });

  it('Gives no card when placental ALP explains the rise (a pregnancy at 27 weeks or more), and warns on the same labs without the pregnancy', async () => {
    const pregnancy = findContextScenario('pregnancy-condition-28-weeks');
    const call = (conditions: fhir4.Condition[]) =>
      request(buildApp())
        .post(SIGN_URL)
        .send(
          hookRequest({
            hook: 'order-sign',
            orders: [amoxClav],
            prefetch: prefetchOf(pregnancy.observations, conditions, pregnancy.patient),
          }),
        )
        .expect(200);

    expect((await call(pregnancy.conditions)).body).toEqual({ cards: [] });
    expect((await call([])).body.cards.map((card: Card) => card.indicator)).toEqual(['warning']);
  });

  it('order-select answers 400 when a selection is not among the draft orders', async () => {
    const res = await request(buildApp())
      .post(SELECT_URL)
      .send(
        hookRequest({
          hook: 'order-select',
          orders: [amoxClav],
          selections: ['MedicationRequest/not-there'],
          prefetch: prefetchOf(CHOLESTATIC_LABS),
        }),
      )
      .expect(400);

    expect(JSON.stringify(res.body)).toContain('not in draftOrders');
  });

  it('Refuses an order-select call at the order-sign service (one hook per service id)', async () => {
    await request(buildApp())
      .post(SIGN_URL)
      .send(
        hookRequest({
          hook: 'order-select',
          orders: [amoxClav],
          selections: ['MedicationRequest/draft-amox'],
          prefetch: prefetchOf(CHOLESTATIC_LABS),
        }),
      )
      .expect(400);
  });
});

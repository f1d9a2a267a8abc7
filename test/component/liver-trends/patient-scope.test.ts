import nock from 'nock';
import request from 'supertest';
import { assembleService } from '../../../src/assemble-service.js';
import type { Card } from '../../../src/cds/schemas.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { loadConfig } from '../../../src/config.js';
import { buildLabSeries } from '../../fixtures/observation.js';
import {
  SCENARIOS,
  SCENARIO_NOW,
  buildMedicationRequest,
  buildScenarioPrefetch,
  toSearchset,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { buildPatient } from '../../fixtures/patient.js';
import { kindOf } from '../../unit/cards/card-inspection.js';
import { captureLog } from '../ops/log-capture.js';

// Only the patient in context reaches the analysis, whatever the client prefetched or the FHIR
// server answered: other patients' labs, Patient and drugs are dropped, counted and noted.

const FHIR_BASE = 'https://ehr.example.org/fhir';
const HOOK_URL = '/cds-services/liver-trends';
const content = loadCardContent();

async function buildService() {
  const log = captureLog();
  const { app } = await assembleService(
    loadConfig({
      LOG_LEVEL: 'debug',
      EMBEDDED_FHIR: 'false',
      FHIR_TIMEOUT_MS: '2000',
      HOOK_DEADLINE_MS: '5000',
      FHIR_SERVER_ALLOWLIST: new URL(FHIR_BASE).origin,
    }),
    { logDestination: log, processMetrics: false, now: () => SCENARIO_NOW },
  );
  return { app, log };
}

function hookRequest(prefetch: Record<string, fhir4.Resource>, withServer = true) {
  return {
    hook: 'patient-view',
    hookInstance: '2f6c8f0e-7f0e-4b8e-9a57-5d0c1a1b2c3d',
    ...(withServer ? { fhirServer: FHIR_BASE } : {}),
    context: { userId: 'Practitioner/example', patientId: 'pat-1' },
    prefetch,
  };
}

function withSubject<T extends fhir4.Observation | fhir4.MedicationRequest>(
  resources: readonly T[],
  reference: string,
): T[] {
  return resources.map((resource) => ({ ...resource, subject: { reference } }));
}

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const classic = SCENARIOS.find((scenario) => scenario.id === 'classic-shift')!;
const amoxiclav = SCENARIOS.find((scenario) => scenario.id === 'amoxicillin-clavulanate-68')!;

function kinds(cards: Card[]) {
  return cards.map((card) => kindOf(card, content));
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

describe('Only the patient in context reaches the analysis', () => {
  it('When every lab belongs to another patient, gives no card, counts the dropped results and logs only the count', async () => {
    const { app, log } = await buildService();
    const foreign = withSubject(classic.observations, 'Patient/pat-2');

    const res = await request(app)
      .post(HOOK_URL)
      .send(hookRequest({ ...buildScenarioPrefetch(classic), labs: toSearchset(foreign) }))
      .expect(200);

    expect(res.body.cards).toEqual([]);
    const metrics = await request(app).get('/metrics').expect(200);
    expect(
      sampleValue(
        metrics.text,
        'cds_other_patient_resources_dropped_total{service="liver-trends"}',
      ),
    ).toBe(foreign.length);
    expect(
      sampleValue(metrics.text, 'cds_no_card_total{service="liver-trends",reason="no-data"}'),
    ).toBe(1);
    const warning = log.lines().find((line) => line.otherPatientResources !== undefined);
    expect(warning).toMatchObject({ level: 'warn', otherPatientResources: foreign.length });
    expect(log.text()).not.toContain('pat-2');
    expect(log.text()).not.toContain(foreign[0]!.id);
  });

  it('When one extreme ALP of another patient is mixed in, the card keeps this patient’s tier and says data were left out', async () => {
    const { app } = await buildService();
    const intruder = withSubject(
      buildLabSeries({ analyte: 'ALP', values: [4000], refHigh: 120, startDaysAgo: 1 }),
      'Patient/pat-2',
    );

    const res = await request(app)
      .post(HOOK_URL)
      .send(
        hookRequest({
          ...buildScenarioPrefetch(classic),
          labs: toSearchset([...classic.observations, ...intruder]),
        }),
      )
      .expect(200);

    const cards: Card[] = res.body.cards;
    expect(kinds(cards)).toEqual(['cholestatic-shift']);
    expect(cards[0]!.indicator).toBe('info');
    expect(cards[0]!.summary).toContain('ALP 3.2×ULN');
    expect(cards[0]!.detail).toContain('1 resource(s) not about this patient');
  });

  it.each([
    ['a relative reference', 'Patient/pat-1'],
    ['an absolute reference on fhirServer', `${FHIR_BASE}/Patient/pat-1`],
    ['a versioned reference', 'Patient/pat-1/_history/4'],
  ])('Keeps labs that name the patient by %s', async (_form, reference) => {
    const { app } = await buildService();
    const labs = withSubject(classic.observations, reference);

    const res = await request(app)
      .post(HOOK_URL)
      .send(hookRequest({ ...buildScenarioPrefetch(classic), labs: toSearchset(labs) }))
      .expect(200);

    expect(kinds(res.body.cards)).toEqual(['cholestatic-shift']);
    expect(res.body.cards[0].detail).not.toContain('not about this patient');
  });

  it.each([
    ['an id that only starts the same', 'Patient/pat-10'],
    ['an id that only ends the same', 'Patient/xpat-1'],
    ['the same id on another FHIR server', 'https://other.example.org/fhir/Patient/pat-1'],
    ['a Group', 'Group/pat-1'],
    ['no reference at all', ''],
  ])('Drops labs whose subject is %s', async (_form, reference) => {
    const { app } = await buildService();
    const labs =
      reference === ''
        ? classic.observations.map((obs) => {
            const copy = { ...obs };
            delete copy.subject;
            return copy;
          })
        : withSubject(classic.observations, reference);

    const res = await request(app)
      .post(HOOK_URL)
      .send(hookRequest({ ...buildScenarioPrefetch(classic), labs: toSearchset(labs) }))
      .expect(200);

    expect(res.body.cards).toEqual([]);
  });

  describe('Another patient’s Patient resource', () => {
    // ALP 150→380 with no lab range: the default ULN depends on the sex of the Patient read.
    const scenario: Scenario = {
      ...classic,
      observations: [
        ...buildLabSeries({ analyte: 'ALP', values: [150, 190, 240, 300, 380] }),
        ...classic.observations.filter((obs) => !obs.id?.startsWith('alp')),
      ],
    };
    const otherWoman = buildPatient({ id: 'pat-2', sex: 'female' });
    const thisMan = buildPatient({ id: 'pat-1', sex: 'male' });

    it('Is not used for the ULNs: the right Patient is read from fhirServer instead', async () => {
      const { app } = await buildService();
      const read = nock(FHIR_BASE).get('/Patient/pat-1').reply(200, thisMan);

      const res = await request(app)
        .post(HOOK_URL)
        .send(hookRequest({ ...buildScenarioPrefetch(scenario), patient: otherWoman }))
        .expect(200);

      expect(read.isDone()).toBe(true);
      // Male default ULN 129 U/L: 380/129 = 2.9×, not the female 380/104 = 3.7×.
      expect(res.body.cards[0].summary).toContain('ALP 2.9×ULN');
    });

    it('Gives 412 naming the key when there is no fhirServer to read the right one from', async () => {
      const { app } = await buildService();

      const res = await request(app)
        .post(HOOK_URL)
        .send(hookRequest({ ...buildScenarioPrefetch(scenario), patient: otherWoman }, false))
        .expect(412);

      expect(res.body.issue[0]).toMatchObject({
        expression: ['prefetch.patient'],
        diagnostics: expect.stringContaining('holds a resource of another patient'),
      });
    });

    it('Read from fhirServer but answered with someone else, gives 412', async () => {
      const { app } = await buildService();
      nock(FHIR_BASE).get('/Patient/pat-1').reply(200, otherWoman);
      const prefetch = buildScenarioPrefetch(scenario);
      delete prefetch.patient;

      const res = await request(app).post(HOOK_URL).send(hookRequest(prefetch)).expect(412);

      expect(res.body.issue[0].diagnostics).toContain('returned a resource of another patient');
    });
  });

  describe('Another patient’s drugs', () => {
    const amoxiclavCode: fhir4.CodeableConcept = {
      text: 'Amoxicillin 875 mg / clavulanate potassium 125 mg oral tablet',
    };
    const amoxiclavMedication: fhir4.Medication = {
      resourceType: 'Medication',
      id: 'med-amx',
      code: amoxiclavCode,
    };

    function byReference(id: string, patient: string): fhir4.MedicationRequest {
      const medicationRequest = buildMedicationRequest(id, amoxiclavCode);
      delete medicationRequest.medicationCodeableConcept;
      return {
        ...medicationRequest,
        subject: { reference: `Patient/${patient}` },
        medicationReference: { reference: 'Medication/med-amx' },
      };
    }

    it('Do not raise the medication card', async () => {
      const { app } = await buildService();
      const medications = withSubject(amoxiclav.medicationRequests, 'Patient/pat-2');

      const res = await request(app)
        .post(HOOK_URL)
        .send(
          hookRequest({
            ...buildScenarioPrefetch(amoxiclav),
            medications: toSearchset(medications),
          }),
        )
        .expect(200);

      expect(kinds(res.body.cards)).toEqual(['cholestatic-shift']);
    });

    it('Do not raise it through an included Medication either', async () => {
      const { app } = await buildService();

      const res = await request(app)
        .post(HOOK_URL)
        .send(
          hookRequest({
            ...buildScenarioPrefetch(amoxiclav),
            medications: toSearchset([byReference('mr-other', 'pat-2'), amoxiclavMedication]),
          }),
        )
        .expect(200);

      expect(kinds(res.body.cards)).toEqual(['cholestatic-shift']);
    });

    it('While this patient’s request keeps the Medication it refers to', async () => {
      const { app } = await buildService();

      const res = await request(app)
        .post(HOOK_URL)
        .send(
          hookRequest({
            ...buildScenarioPrefetch(amoxiclav),
            medications: toSearchset([byReference('mr-own', 'pat-1'), amoxiclavMedication]),
          }),
        )
        .expect(200);

      expect(kinds(res.body.cards).sort()).toEqual(['cholestatic-shift', 'medication-review']);
    });
  });
});

import { CardSchema } from '../../../src/cds/schemas.js';
import { buildCards, fill, TREND_LINK_LABEL } from '../../../src/cards/build-cards.js';
import { loadCardContent } from '../../../src/cards/load-content.js';
import { applyRules } from '../../../src/rules/apply-rules.js';
import { createLiverTrendsService } from '../../../hooks/liver-trends.js';
import {
  SCENARIO_NOW,
  assessScenario,
  buildScenarioPrefetch,
  findScenario,
  type Scenario,
} from '../../fixtures/scenarios.js';
import { serviceRequestsOf, suggestionIdsOf } from './card-inspection.js';

const content = loadCardContent();
const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function cardsFor(scenario: Scenario, trendLinkUrl?: string) {
  const { assessment, context } = assessScenario(scenario, content);
  return buildCards({
    recommendations: applyRules(assessment, context, content.contextRules),
    assessment,
    context,
    content,
    patientId: 'pat-1',
    now: SCENARIO_NOW,
    ...(trendLinkUrl === undefined ? {} : { trendLinkUrl }),
  });
}

describe('buildCards', () => {
  it('When the classic shift is found, proposes each work-up order as a draft ServiceRequest for the patient, citing the ALP/AST/ALT results', () => {
    const [card] = cardsFor(findScenario('no-ggt'));
    const requests = serviceRequestsOf(card!);

    expect(requests).toHaveLength(4);
    for (const request of requests) {
      expect(request).toMatchObject({
        resourceType: 'ServiceRequest',
        status: 'draft',
        intent: 'proposal',
        subject: { reference: 'Patient/pat-1' },
        authoredOn: SCENARIO_NOW.toISOString(),
      });
      expect(request.reasonReference?.length).toBeGreaterThanOrEqual(3);
      expect(request.reasonReference).toContainEqual({ reference: 'Observation/alp-4' });
      expect(request.reasonReference).toContainEqual({ reference: 'Observation/alt-0' });
    }
    expect(requests.map((request) => request.code?.coding?.map((c) => c.code))).toEqual([
      ['2324-2', '82977'],
      ['1968-7'],
      ['1975-2'],
      ['24558-9', '45036003', '76700'],
    ]);
  });

  it('When MRCP and the autoimmune panel are proposed, MRCP carries SNOMED CT and CPT only and the panel is four separately coded requests', () => {
    const [ibdCard] = cardsFor(findScenario('ibd'));
    const [, overlapCard] = cardsFor(findScenario('aih-pbc-azathioprine'));
    const mrcp = serviceRequestsOf(ibdCard!).find((request) =>
      request.code?.coding?.some((coding) => coding.code === '314635004'),
    );
    const panel = overlapCard!.suggestions?.find((suggestion) => suggestion.actions?.length === 4);
    const panelCodes = serviceRequestsOf({
      ...overlapCard!,
      suggestions: panel ? [panel] : [],
    }).map((request) => request.code?.coding?.map((coding) => `${coding.system}|${coding.code}`));

    expect(mrcp?.code?.coding?.map((coding) => coding.system)).toEqual([
      'http://snomed.info/sct',
      'http://www.ama-assn.org/go/cpt',
    ]);
    expect(panelCodes).toEqual([
      ['http://loinc.org|8061-4'],
      ['http://loinc.org|14252-1'],
      ['http://loinc.org|17284-1'],
      ['http://loinc.org|2465-3'],
    ]);
  });

  it('When cards are built twice, every card and suggestion gets a fresh lowercase uuid', () => {
    const first = cardsFor(findScenario('amoxicillin-clavulanate-68'));
    const second = cardsFor(findScenario('amoxicillin-clavulanate-68'));
    const uuids = [...first, ...second].flatMap((card) => [
      card.uuid,
      ...(card.suggestions ?? []).map((suggestion) => suggestion.uuid),
    ]);

    expect(uuids.every((uuid) => typeof uuid === 'string' && LOWERCASE_UUID.test(uuid))).toBe(true);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('When a trend link is given, the main card links to it first, then to the evidence', () => {
    const [card] = cardsFor(findScenario('classic-shift'), 'https://cds.example.org/trends/abc');

    expect(card!.links?.[0]).toEqual({
      label: TREND_LINK_LABEL,
      url: 'https://cds.example.org/trends/abc',
      type: 'absolute',
    });
    expect(card!.links?.map((link) => link.url)).toEqual(
      expect.arrayContaining([
        'https://doi.org/10.1038/ajg.2016.517',
        'https://www.ncbi.nlm.nih.gov/books/NBK547852/',
      ]),
    );
    expect(card!.source).toEqual({
      label: expect.stringContaining('ACG'),
      url: 'https://doi.org/10.1038/ajg.2016.517',
    });
  });

  it('When no trend link is given, no card links to a trend page', () => {
    const cards = cardsFor(findScenario('amoxicillin-clavulanate-68'));

    expect(cards.flatMap((card) => card.links ?? []).map((link) => link.label)).not.toContain(
      TREND_LINK_LABEL,
    );
  });

  it('When the medication card is built, it names the drug, links its LiverTox entry and offers override reasons but no orders', () => {
    const [medicationCard] = cardsFor(findScenario('amoxicillin-clavulanate-68'));

    expect(medicationCard!.summary).toMatch(/^amoxicillin–clavulanate \(active\): /);
    expect(medicationCard!.links).toContainEqual({
      label: 'LiverTox: amoxicillin–clavulanate',
      url: 'https://www.ncbi.nlm.nih.gov/books/NBK547852/?term=amoxicillin%20clavulanate',
      type: 'absolute',
    });
    expect(medicationCard!.suggestions).toBeUndefined();
    expect(medicationCard!.selectionBehavior).toBeUndefined();
    expect(medicationCard!.overrideReasons?.map((reason) => reason.code)).toContain(
      'medication-reviewed',
    );
    expect(CardSchema.safeParse(medicationCard).error?.issues).toBeUndefined();
  });

  it('When the main card is built, it offers the override reasons a clinician needs, as codings of the project code system', () => {
    const [card] = cardsFor(findScenario('classic-shift'));

    expect(card!.overrideReasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'already-evaluated', display: 'Already being evaluated' }),
        expect.objectContaining({ code: 'known-non-hepatic-cause' }),
        expect.objectContaining({ code: 'not-clinically-relevant' }),
      ]),
    );
    expect(new Set(card!.overrideReasons?.map((reason) => reason.system))).toEqual(
      new Set(['urn:hepatic-trends-cds:override-reason']),
    );
  });

  it('When the detail is built, it shows the series table, each slope, R first→last with its class and the ranked differential', () => {
    const [card] = cardsFor(findScenario('ibd'));
    const detail = card!.detail ?? '';

    expect(detail).toMatch(
      /\| Date \| ALP U\/L \(×ULN\) \| ALT U\/L \(×ULN\) \| AST U\/L \(×ULN\)/,
    );
    expect(detail).toContain('| 380 (3.2) |');
    expect(detail).toMatch(/\*\*ALP\*\* rising \+\d+ %\/30 d/);
    expect(detail).toMatch(
      /R \(ALT×ULN ÷ ALP×ULN\) 6\.4 \(hepatocellular\) .* → 0\.6 \(cholestatic\)/,
    );
    expect(detail).toMatch(
      /1\. \*\*Primary sclerosing cholangitis\*\* \(Inflammatory bowel disease on record\)/,
    );
    expect(detail).toContain('Also consider: Biliary obstruction by stones');
  });

  it('When a card kind has no suggestions to offer, its suggestion list is empty and uses only content ids', () => {
    const [card] = cardsFor(findScenario('ultrasound-on-record'));

    expect(suggestionIdsOf(card!, content)).toEqual(['mrcp']);
  });
});

describe('the liver-trends handler', () => {
  const service = createLiverTrendsService(content);

  it('When a trend-link publisher is present and a card fires, publishes the assessment once and links it', async () => {
    const published: unknown[] = [];
    const scenario = findScenario('classic-shift');
    const { cards } = await service.handle({
      request: {
        hook: 'patient-view',
        hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f001',
        context: { patientId: 'pat-1', userId: 'Practitioner/example' },
      },
      data: buildScenarioPrefetch(scenario),
      now: SCENARIO_NOW,
      lookbackDays: 180,
      trendLinks: {
        publish: (payload) => {
          published.push(payload);
          return Promise.resolve('https://cds.example.org/trends/xyz');
        },
      },
    });

    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ lookbackDays: 180, patient: { id: 'pat-1' } });
    expect(cards[0]!.links?.[0]?.url).toBe('https://cds.example.org/trends/xyz');
  });

  it('When the laboratory search came back cut short (SUBSETTED), the card says older results may be missing', async () => {
    const data = buildScenarioPrefetch(findScenario('classic-shift'));
    const labs = data.labs as fhir4.Bundle;
    const request = {
      hook: 'patient-view',
      hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f004',
      context: { patientId: 'pat-1', userId: 'Practitioner/example' },
    };
    const complete = await service.handle({ request, data, now: SCENARIO_NOW, lookbackDays: 180 });
    const truncated = await service.handle({
      request,
      data: {
        ...data,
        labs: {
          ...labs,
          meta: {
            tag: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
                code: 'SUBSETTED',
              },
            ],
          },
        },
      },
      now: SCENARIO_NOW,
      lookbackDays: 180,
    });

    expect(complete.cards[0]!.detail).not.toContain('cut short');
    expect(truncated.cards[0]!.detail).toContain(
      'The laboratory search was cut short (more result pages than the service follows)',
    );
  });

  it('When no card fires, publishes nothing', async () => {
    const published: unknown[] = [];
    const { cards } = await service.handle({
      request: {
        hook: 'patient-view',
        hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f002',
        context: { patientId: 'pat-1', userId: 'Practitioner/example' },
      },
      data: buildScenarioPrefetch(findScenario('stable')),
      now: SCENARIO_NOW,
      lookbackDays: 180,
      trendLinks: {
        publish: (payload) => {
          published.push(payload);
          return Promise.resolve('https://cds.example.org/trends/none');
        },
      },
    });

    expect(cards).toEqual([]);
    expect(published).toEqual([]);
  });

  it('When the trend page cannot be published, still returns the cards without the link', async () => {
    const { cards } = await service.handle({
      request: {
        hook: 'patient-view',
        hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f003',
        context: { patientId: 'pat-1', userId: 'Practitioner/example' },
      },
      data: buildScenarioPrefetch(findScenario('classic-shift')),
      now: SCENARIO_NOW,
      lookbackDays: 180,
      trendLinks: { publish: () => Promise.reject(new Error('store down')) },
    });

    expect(cards).toHaveLength(1);
    expect(cards[0]!.links?.map((link) => link.label)).not.toContain(TREND_LINK_LABEL);
  });

  it('When every prefetch key is empty or null, returns no cards', async () => {
    const { cards } = await service.handle({
      request: {
        hook: 'patient-view',
        hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f004',
        context: { patientId: 'pat-1', userId: 'Practitioner/example' },
      },
      data: {
        patient: null,
        labs: null,
        conditions: null,
        medications: null,
        medicationStatements: null,
        imaging: null,
      },
      now: SCENARIO_NOW,
      lookbackDays: 180,
    });

    expect(cards).toEqual([]);
  });

  it('When conditions, medications and reports arrive malformed, ignores the broken parts and still answers from the labs', async () => {
    const scenario = findScenario('ibd');
    const malformed: fhir4.Bundle = JSON.parse(
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [
          null,
          { resource: { resourceType: 'Condition', id: 'bad-1', code: { coding: 'K50' } } },
          { resource: { resourceType: 'Condition', id: 'bad-2', code: { coding: [null, 7] } } },
          {
            resource: {
              resourceType: 'MedicationRequest',
              id: 'bad-3',
              status: 'active',
              contained: 5,
              medicationReference: { reference: '#x' },
            },
          },
          { resource: { resourceType: 'DiagnosticReport', id: 'bad-4', effectiveDateTime: 5 } },
          ...scenario.conditions.map((resource) => ({ resource })),
        ],
      }),
    );
    const { cards } = await service.handle({
      request: {
        hook: 'patient-view',
        hookInstance: '2f0ab1c3-6b7d-4c9a-9a53-5d4f0ce1f005',
        context: { patientId: 'pat-1', userId: 'Practitioner/example' },
      },
      data: {
        ...buildScenarioPrefetch(scenario),
        conditions: malformed,
        medications: malformed,
        imaging: malformed,
      },
      now: SCENARIO_NOW,
      lookbackDays: 180,
    });

    expect(cards).toHaveLength(1);
    expect(suggestionIdsOf(cards[0]!, content)).toEqual(['abdominal-ultrasound', 'mrcp']);
  });

  it('declares the patient-view discovery entry with its six prefetch templates', () => {
    const { definition } = service;

    expect(definition).toMatchObject({ id: 'liver-trends', hook: 'patient-view' });
    expect(Object.keys(definition.prefetch ?? {}).sort()).toEqual([
      'conditions',
      'imaging',
      'labs',
      'medicationStatements',
      'medications',
      'patient',
    ]);
    expect(definition.prefetch?.labs).toMatch(
      /^Observation\?patient=\{\{context\.patientId\}\}&code=http:\/\/loinc\.org\|6768-6,.*http:\/\/loinc\.org\|1742-6,.*&_sort=-date&_count=200$/,
    );
    // Stopped and completed records count too (C4), with their Medications included.
    expect(definition.prefetch?.medications).toBe(
      'MedicationRequest?patient={{context.patientId}}&status=active,on-hold,completed,stopped&_include=MedicationRequest:medication',
    );
    expect(definition.prefetch?.medicationStatements).toBe(
      'MedicationStatement?patient={{context.patientId}}&status=active,on-hold,completed,stopped&_include=MedicationStatement:medication',
    );
  });
});

describe('fill', () => {
  it('replaces each slot, leaves a slot without a value empty and collapses runs of blank lines', () => {
    expect(fill('ALP {{alpXUln}}×ULN {{missing}} and rising', { alpXUln: '3.2' })).toBe(
      'ALP 3.2×ULN  and rising',
    );
    expect(fill('{{a}}\n\n\n\n{{b}}', { a: 'x', b: 'y' })).toBe('x\n\ny');
  });
});

import { loadCardContent } from '../../../src/cards/load-content.js';
import {
  icdStartsWith,
  readPatientContext,
  type ContextSources,
} from '../../../src/rules/patient-context.js';
import { CPT, ICD10_CM, LOINC, RXNORM, SNOMED_CT } from '../../../src/terminology/systems.js';
import {
  SCENARIO_NOW,
  buildCondition,
  buildMedicationRequest,
  buildUltrasoundReport,
} from '../../fixtures/scenarios.js';

const content = loadCardContent();

function contextOf(sources: Partial<ContextSources>) {
  return readPatientContext(
    {
      conditions: [],
      medicationRequests: [],
      medications: [],
      imaging: [],
      now: SCENARIO_NOW,
      lookbackDays: 180,
      ...sources,
    },
    content,
  );
}

describe('readPatientContext', () => {
  describe('conditions', () => {
    it.each([
      ['a SNOMED CT ulcerative colitis', { system: SNOMED_CT, code: '64766004' }, 'ibd'],
      ['an ICD-10-CM Crohn code with a subcode', { system: ICD10_CM, code: 'K50.90' }, 'ibd'],
      ['an ICD-10-CM code written without its dot', { system: ICD10_CM, code: 'K8301' }, 'psc'],
      ['ICD-10-CM K74.3 (PBC)', { system: ICD10_CM, code: 'K74.3' }, 'pbc'],
      ['SNOMED CT autoimmune hepatitis', { system: SNOMED_CT, code: '408335007' }, 'aih'],
      ['ICD-10-CM B18.1 (chronic hepatitis B)', { system: ICD10_CM, code: 'B18.1' }, 'hbv'],
      ['ICD-10-CM K70.30 (alcoholic cirrhosis)', { system: ICD10_CM, code: 'K70.30' }, 'cirrhosis'],
      ['SNOMED CT liver metastases', { system: SNOMED_CT, code: '94381002' }, 'malignancy'],
      ['ICD-10-CM M88.0 (Paget disease of skull)', { system: ICD10_CM, code: 'M88.0' }, 'bone'],
    ])('When %s is active, places the patient in that group', (_title, coding, group) => {
      const context = contextOf({ conditions: [buildCondition('c1', coding)] });

      expect(context.conditions.map((condition) => condition.group)).toContain(group);
    });

    it('When one code belongs to two groups, the condition counts for both (alcoholic cirrhosis)', () => {
      const context = contextOf({
        conditions: [buildCondition('c1', { system: ICD10_CM, code: 'K70.31' })],
      });

      expect(context.conditions.map((condition) => condition.group).sort()).toEqual([
        'alcohol',
        'cirrhosis',
      ]);
    });

    it.each([
      ['resolved', { clinicalStatus: 'resolved' }],
      ['inactive', { clinicalStatus: 'inactive' }],
      ['entered in error', { verificationStatus: 'entered-in-error' }],
      ['refuted', { verificationStatus: 'refuted' }],
    ])('When the only IBD condition is %s, ignores it', (_title, status) => {
      const context = contextOf({
        conditions: [buildCondition('c1', { system: SNOMED_CT, code: '64766004' }, status)],
      });

      expect(context.conditions).toEqual([]);
    });

    it.each([['recurrence'], ['relapse']])('When IBD is in %s, counts it', (clinicalStatus) => {
      const context = contextOf({
        conditions: [
          buildCondition('c1', { system: SNOMED_CT, code: '64766004' }, { clinicalStatus }),
        ],
      });

      expect(context.conditions.map((condition) => condition.group)).toEqual(['ibd']);
    });

    it('When a code matches in an unrelated system, ignores it (K50 as a local code)', () => {
      const context = contextOf({
        conditions: [buildCondition('c1', { system: 'urn:local:problems', code: 'K50' })],
      });

      expect(context.conditions).toEqual([]);
    });

    it('When an ICD prefix only matches part of a code segment, does not match (K83.0 is not K83.01)', () => {
      expect(icdStartsWith('K83.0', 'K83.01')).toBe(false);
      expect(icdStartsWith('k83.019', 'K83.01')).toBe(true);
    });
  });

  describe('medications', () => {
    it('When an active request names amoxicillin with clavulanate in free text, matches the combination by name', () => {
      const context = contextOf({
        medicationRequests: [
          buildMedicationRequest('m1', {
            text: 'Amoxicillin 875 MG / Clavulanate 125 MG Oral Tablet',
          }),
        ],
      });

      expect(context.cholestaticDrugs).toEqual([
        expect.objectContaining({
          matchedBy: 'name',
          medicationRequestId: 'm1',
          drug: expect.objectContaining({ name: 'amoxicillin–clavulanate' }),
        }),
      ]);
    });

    it('When amoxicillin is prescribed alone, does not treat it as amoxicillin–clavulanate', () => {
      const context = contextOf({
        medicationRequests: [buildMedicationRequest('m1', { text: 'Amoxicillin 500 mg capsule' })],
      });

      expect(context.cholestaticDrugs).toEqual([]);
    });

    it('When a request is coded with an ingredient RxCUI, matches by code', () => {
      const context = contextOf({
        medicationRequests: [
          buildMedicationRequest('m1', { coding: [{ system: RXNORM, code: '32968' }] }),
        ],
      });

      expect(context.cholestaticDrugs[0]).toMatchObject({
        matchedBy: 'rxnorm',
        drug: { name: 'clopidogrel' },
      });
    });

    it('When a brand or British name is used, matches by synonym', () => {
      const context = contextOf({
        medicationRequests: [
          buildMedicationRequest('m1', { text: 'Co-amoxiclav 625mg tablets' }),
          buildMedicationRequest('m2', {
            coding: [{ system: RXNORM, code: '0', display: 'Bactrim DS' }],
          }),
        ],
      });

      expect(context.cholestaticDrugs.map((match) => match.drug.name)).toEqual([
        'amoxicillin–clavulanate',
        'sulfamethoxazole–trimethoprim',
      ]);
    });

    it('When the drug sits in a contained Medication, reads it from there', () => {
      const request: fhir4.MedicationRequest = {
        resourceType: 'MedicationRequest',
        id: 'm1',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/pat-1' },
        contained: [
          {
            resourceType: 'Medication',
            id: 'med',
            code: { coding: [{ system: RXNORM, code: '83367', display: 'atorvastatin' }] },
          },
        ],
        medicationReference: { reference: '#med' },
      };

      expect(contextOf({ medicationRequests: [request] }).cholestaticDrugs[0]?.drug.name).toBe(
        'atorvastatin',
      );
    });

    it('When the drug is a Medication returned beside the request, resolves the reference', () => {
      const request: fhir4.MedicationRequest = {
        resourceType: 'MedicationRequest',
        id: 'm1',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/pat-1' },
        medicationReference: { reference: 'Medication/terb' },
      };
      const medication: fhir4.Medication = {
        resourceType: 'Medication',
        id: 'terb',
        code: { text: 'Terbinafine 250 mg tablet' },
      };

      expect(
        contextOf({ medicationRequests: [request], medications: [medication] }).cholestaticDrugs[0]
          ?.drug.name,
      ).toBe('terbinafine');
    });

    it('When a matching request is stopped or completed with no date at all, ignores it: it cannot be placed inside the exposure window', () => {
      const context = contextOf({
        medicationRequests: (['stopped', 'completed'] as const).map((status, index) =>
          buildMedicationRequest(`m${index}`, { text: 'clopidogrel 75 mg' }, status),
        ),
      });

      expect(context.cholestaticDrugs).toEqual([]);
    });

    it('When a matching request is on hold, counts it as current: the drug was being taken', () => {
      const context = contextOf({
        medicationRequests: [
          buildMedicationRequest('m1', { text: 'clopidogrel 75 mg' }, 'on-hold'),
        ],
      });

      expect(context.cholestaticDrugs.map((match) => match.exposure.status)).toEqual(['on-hold']);
    });

    it.each(['cancelled', 'draft', 'entered-in-error', 'unknown'] as const)(
      'When a matching request is %s, ignores it: the drug was never (known to be) taken',
      (status) => {
        const context = contextOf({
          medicationRequests: [buildMedicationRequest('m1', { text: 'clopidogrel 75 mg' }, status)],
        });

        expect(context.cholestaticDrugs).toEqual([]);
      },
    );

    it('When azathioprine is active, lists it both as a cholestatic drug and as an immunosuppressant', () => {
      const context = contextOf({
        medicationRequests: [buildMedicationRequest('m1', { text: 'Azathioprine 50 mg' })],
      });

      expect(context.cholestaticDrugs.map((match) => match.drug.name)).toEqual(['azathioprine']);
      expect(context.immunosuppressants).toEqual(['azathioprine']);
    });
  });

  describe('prior imaging', () => {
    it('When a final abdominal ultrasound report is inside the window, records it', () => {
      expect(contextOf({ imaging: [buildUltrasoundReport('us-1', 30)] }).abdominalImaging).toEqual({
        resourceType: 'DiagnosticReport',
        id: 'us-1',
        date: expect.any(String),
        conclusion: null,
        findings: [],
      });
    });

    it('When the only ultrasound is older than the look-back, ignores it', () => {
      expect(contextOf({ imaging: [buildUltrasoundReport('us-old', 400)] }).abdominalImaging).toBe(
        null,
      );
    });

    it('When the report was cancelled, ignores it', () => {
      const report = { ...buildUltrasoundReport('us-1', 10), status: 'cancelled' as const };

      expect(contextOf({ imaging: [report] }).abdominalImaging).toBe(null);
    });

    it('When a completed Procedure carries the CPT ultrasound code, records it', () => {
      const procedure: fhir4.Procedure = {
        resourceType: 'Procedure',
        id: 'p1',
        status: 'completed',
        subject: { reference: 'Patient/pat-1' },
        code: { coding: [{ system: CPT, code: '76705' }] },
        performedDateTime: '2026-05-20T09:00:00Z',
      };

      expect(contextOf({ imaging: [procedure] }).abdominalImaging?.id).toBe('p1');
    });

    it('When a report is for another study (MR abdomen), ignores it', () => {
      const report: fhir4.DiagnosticReport = {
        ...buildUltrasoundReport('mr-1', 10),
        code: { coding: [{ system: LOINC, code: '36134-5' }] },
      };

      expect(contextOf({ imaging: [report] }).abdominalImaging).toBe(null);
    });
  });
});

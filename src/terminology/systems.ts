// Code-system URIs as FHIR R4 names them (terminology page of the R4 specification).
// @see https://hl7.org/fhir/R4/terminologies-systems.html

export const LOINC = 'http://loinc.org';
export const SNOMED_CT = 'http://snomed.info/sct';
export const ICD10_CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const ATC = 'http://www.whocc.no/atc';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const UCUM = 'http://unitsofmeasure.org';

/** FHIR administrative gender, used in Observation.referenceRange.appliesTo by some labs. */
export const ADMINISTRATIVE_GENDER = 'http://hl7.org/fhir/administrative-gender';
/** Observation.referenceRange.type meanings. @see https://hl7.org/fhir/R4/valueset-referencerange-meaning.html */
export const REFERENCE_RANGE_MEANING =
  'http://terminology.hl7.org/CodeSystem/referencerange-meaning';

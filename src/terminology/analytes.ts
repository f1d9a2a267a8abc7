// Reviewed reference data for the liver chemistries the engine reads: which LOINC codes count as which
// analyte, the canonical unit, default upper limits of normal and biological variation.
//
// This file is data for a clinical informaticist to review. Every row names its source with the ids
// used in the project's clinical reference ([S1] ACG 2017, [S2] tx.fhir.org LOINC 2.82 expansions,
// [S8] Mayo Clinic Laboratories catalog, [S14] EuBIVAS, ...) and a status:
//   V  verified in an authoritative source or in two independent sources that agree;
//   P  partly verified (one non-authoritative source) — usable, re-check before relying on it;
//   U  unverified (recalled, plausible) — used only where nothing better exists, and flagged as such.
// LOINC codes and names are from LOINC (loinc.org), used under the LOINC licence.

import type { AdministrativeSex, Analyte } from '../engine/types.js';

export type EvidenceStatus = 'V' | 'P' | 'U';

/** LOINC property of the code: catalytic concentration, mass concentration or substance concentration. */
export type LoincProperty = 'CCnc' | 'MCnc' | 'SCnc';

export interface AnalyteCode {
  loinc: string;
  display: string;
  analyte: Analyte;
  property: LoincProperty;
  status: EvidenceStatus;
  source: string;
}

/**
 * LOINC → analyte. Included: every V row of the clinical reference for the six analytes, plus the P
 * specimen variants (Blood; Serum, Plasma or Blood) for ALP and ALT, because labs do send them and
 * they measure the same enzyme activity.
 *
 * Deliberately not mapped:
 * - 14409-7 (status X: two sources give contradicting method names for it);
 * - 59789-8, 48134-1, 48136-6 (status U: meaning not confirmed);
 * - 55971-6 ALP in cord blood (neonatal, outside the adult question this product answers);
 * - 59827-6 / 59828-4 total bilirubin in arterial / venous blood (blood-gas analysers, mainly
 *   neonatal; not comparable with the serum series);
 * - 1971-1 / 14630-8 indirect bilirubin (derived, not needed for the findings);
 * - 1779-8 liver ALP isoenzyme and 17838-4 bone ALP (fractions, not total ALP).
 */
export const ANALYTE_CODES: readonly AnalyteCode[] = [
  {
    loinc: '6768-6',
    display: 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma',
    analyte: 'ALP',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S3][S7][S8]',
  },
  {
    loinc: '1783-0',
    display: 'Alkaline phosphatase [Enzymatic activity/volume] in Blood',
    analyte: 'ALP',
    property: 'CCnc',
    status: 'P',
    source: '[S12] LOINC 2.70 value-set list',
  },
  {
    loinc: '77141-0',
    display: 'Alkaline phosphatase [Enzymatic activity/volume] in Serum, Plasma or Blood',
    analyte: 'ALP',
    property: 'CCnc',
    status: 'P',
    source: '[S12] LOINC 2.70 value-set list',
  },
  {
    loinc: '1920-8',
    display: 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    analyte: 'AST',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S3][S7]',
  },
  {
    loinc: '30239-8',
    display:
      "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma by With P-5'-P",
    analyte: 'AST',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S4][S5][S8]',
  },
  {
    loinc: '88112-8',
    display:
      "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma by No addition of P-5'-P",
    analyte: 'AST',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S5]',
  },
  {
    loinc: '1742-6',
    display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    analyte: 'ALT',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S3][S7]',
  },
  {
    loinc: '1743-4',
    display:
      "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma by With P-5'-P",
    analyte: 'ALT',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S4]',
  },
  {
    loinc: '1744-2',
    display:
      "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma by No addition of P-5'-P",
    analyte: 'ALT',
    property: 'CCnc',
    status: 'V',
    source: '[S2][S4][S37]',
  },
  {
    loinc: '76625-3',
    display: 'Alanine aminotransferase [Enzymatic activity/volume] in Blood',
    analyte: 'ALT',
    property: 'CCnc',
    status: 'P',
    source: '[S2][S13]',
  },
  {
    loinc: '77144-4',
    display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum, Plasma or Blood',
    analyte: 'ALT',
    property: 'CCnc',
    status: 'P',
    source: '[S13]',
  },
  {
    loinc: '2324-2',
    display: 'Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma',
    analyte: 'GGT',
    property: 'CCnc',
    status: 'V',
    source: '[S4][S5][S8]',
  },
  {
    loinc: '1975-2',
    display: 'Bilirubin.total [Mass/volume] in Serum or Plasma',
    analyte: 'TBIL',
    property: 'MCnc',
    status: 'V',
    source: '[S4][S5][S7]',
  },
  {
    loinc: '14631-6',
    display: 'Bilirubin.total [Moles/volume] in Serum or Plasma',
    analyte: 'TBIL',
    property: 'SCnc',
    status: 'V',
    source: '[S3][S5]',
  },
  {
    loinc: '42719-5',
    display: 'Bilirubin.total [Mass/volume] in Blood',
    analyte: 'TBIL',
    property: 'MCnc',
    status: 'V',
    source: '[S5]',
  },
  {
    loinc: '1968-7',
    display: 'Bilirubin.direct [Mass/volume] in Serum or Plasma',
    analyte: 'DBIL',
    property: 'MCnc',
    status: 'V',
    source: '[S4][S7]',
  },
  {
    loinc: '14629-0',
    display: 'Bilirubin.direct [Moles/volume] in Serum or Plasma',
    analyte: 'DBIL',
    property: 'SCnc',
    status: 'V',
    source: '[S3]',
  },
];

export type CanonicalUnit = 'U/L' | 'umol/L';

export interface DefaultUln {
  /** In the analyte's canonical unit. */
  male: number;
  female: number;
  status: EvidenceStatus;
  source: string;
}

export interface BiologicalVariation {
  /** Within-subject coefficient of variation, %. */
  cviPct: number;
  cviStatus: EvidenceStatus;
  cviSource: string;
  /** Analytical coefficient of variation, %: an assumption, replace with the lab's own CVA when known. */
  cvaPct: number;
}

/**
 * What a result or a lab's reference range can physically be. Outside it the number is a data
 * error (a unit slip, a typing error, a test record), never evidence: the result is excluded, the
 * range replaced by the default ULN, each with a reason on the card.
 */
export interface PlausibilityLimits {
  /** Highest result accepted, in the canonical unit; results must also be above 0. */
  maxValue: number;
  /**
   * A lab ULN outside [low, high] (canonical unit) is not believed. The band runs from half the
   * lowest to twice the highest ULN the clinical reference (§2a/§2b) lists for any age or sex.
   */
  uln: { low: number; high: number };
  status: EvidenceStatus;
  source: string;
}

export interface AnalyteDefinition {
  analyte: Analyte;
  name: string;
  kind: 'enzyme' | 'bilirubin';
  canonicalUnit: CanonicalUnit;
  defaultUln: DefaultUln;
  biologicalVariation: BiologicalVariation;
  plausibility: PlausibilityLimits;
}

/**
 * CVA is assumed at 5 % for every analyte: the upper of the two scenarios in the clinical reference
 * (§3b). A larger CVA widens the reference change value, so the engine calls fewer trends, not more.
 */
export const ASSUMED_CVA_PCT = 5;

/** Molar mass of bilirubin (C33H36N4O6), g/mol; 1 mg/dL = 17.10 µmol/L. Status P [S13], arithmetic V [S30]. */
export const BILIRUBIN_MOLAR_MASS = 584.66;

/**
 * Bilirubin is kept in µmol/L: it is the SI unit, LOINC has molar codes for both total (14631-6) and
 * direct (14629-0) bilirubin, and mass results convert exactly with the molar mass above.
 */
export const ANALYTES: Readonly<Record<Analyte, AnalyteDefinition>> = {
  ALP: {
    analyte: 'ALP',
    name: 'Alkaline phosphatase',
    kind: 'enzyme',
    canonicalUnit: 'U/L',
    // Adult ranges: M ≥19 y 40–129, F ≥17 y 35–104 U/L. Children's ranges are far higher.
    defaultUln: { male: 129, female: 104, status: 'V', source: '[S8] Mayo Clinic Laboratories' },
    biologicalVariation: {
      cviPct: 5.3,
      cviStatus: 'V',
      cviSource: '[S14] EuBIVAS',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULNs listed: adult F 104 to 469 (15 d–<1 y) U/L [S8]. 20 000 U/L is about 150× the adult and
    // 40× the infant ULN, beyond any reported cholestasis; S3 (>10×ULN) starts near 1 300 U/L.
    plausibility: {
      maxValue: 20_000,
      uln: { low: 52, high: 938 },
      status: 'U',
      source:
        'ULN band from [S8] (reference §2b); maximum a design bound, no source in the reference',
    },
  },
  AST: {
    analyte: 'AST',
    name: 'Aspartate aminotransferase',
    kind: 'enzyme',
    canonicalUnit: 'U/L',
    // Mayo (P-5'-P method), ≥14 y: M 8–48, F 8–43 U/L.
    defaultUln: { male: 48, female: 43, status: 'V', source: '[S8] Mayo Clinic Laboratories' },
    biologicalVariation: {
      cviPct: 9.5,
      cviStatus: 'V',
      cviSource: '[S14] EuBIVAS',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULNs listed: 18 (older method, 7–18 U/L [S19]) to 60 (Mayo, boys 1–13 y [S8]). Maximum: five
    // times the ACG "massive" grade (> 10 000 IU/L, recalled, status U in the reference).
    plausibility: {
      maxValue: 50_000,
      uln: { low: 9, high: 120 },
      status: 'U',
      source: 'ULN band from [S8][S19] (reference §2b, §3); maximum 5× the ACG massive grade [S1]',
    },
  },
  ALT: {
    analyte: 'ALT',
    name: 'Alanine aminotransferase',
    kind: 'enzyme',
    canonicalUnit: 'U/L',
    // ACG "true healthy normal": up to 33 IU/L in men, up to 25 IU/L in women.
    defaultUln: {
      male: 33,
      female: 25,
      status: 'V',
      source: '[S1] ACG Clinical Guideline 2017',
    },
    biologicalVariation: {
      cviPct: 9.3,
      cviStatus: 'V',
      cviSource: '[S14] EuBIVAS',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULNs listed: 19 (ACG healthy women, 19–25 [S1]) to 79 (NASH-CRN lab, men [S31]). Maximum as AST.
    plausibility: {
      maxValue: 50_000,
      uln: { low: 9.5, high: 158 },
      status: 'U',
      source: 'ULN band from [S1][S31] (reference §2a); maximum 5× the ACG massive grade [S1]',
    },
  },
  GGT: {
    analyte: 'GGT',
    name: 'Gamma-glutamyl transferase',
    kind: 'enzyme',
    canonicalUnit: 'U/L',
    // Mayo (current catalog), ≥18 y: M 8–61, F 5–36 U/L.
    defaultUln: { male: 61, female: 36, status: 'V', source: '[S8] Mayo Clinic Laboratories' },
    biologicalVariation: {
      cviPct: 8.9,
      cviStatus: 'V',
      cviSource: '[S14] EuBIVAS',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULNs listed: 21 (Mayo, 1–6 y) to 178 (0–11 mo) U/L [S8]. Maximum as ALP (cholestatic enzyme).
    plausibility: {
      maxValue: 20_000,
      uln: { low: 10.5, high: 356 },
      status: 'U',
      source:
        'ULN band from [S8] (reference §2b); maximum a design bound, no source in the reference',
    },
  },
  TBIL: {
    analyte: 'TBIL',
    name: 'Bilirubin, total',
    kind: 'bilirubin',
    canonicalUnit: 'umol/L',
    // UNVERIFIED: "commonly ~1.0–1.2 mg/dL"; 1.2 mg/dL = 20.5 µmol/L. Prefer the lab's own range.
    defaultUln: {
      male: 20.5,
      female: 20.5,
      status: 'U',
      source: 'unverified common value (1.2 mg/dL); no source in the clinical reference',
    },
    // UNVERIFIED: recalled from the Ricos biological-variation database, not re-read.
    biologicalVariation: {
      cviPct: 21.8,
      cviStatus: 'U',
      cviSource: 'recalled Ricos database value, not verified',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULNs listed: about 17–21 µmol/L (status U). 1 500 µmol/L is about 88 mg/dL, above reported
    // adult extremes. Neonatal ranges lie outside this product's adult question.
    plausibility: {
      maxValue: 1_500,
      uln: { low: 8.5, high: 42 },
      status: 'U',
      source: 'ULN band from the unverified common range (reference §2b); maximum a design bound',
    },
  },
  DBIL: {
    analyte: 'DBIL',
    name: 'Bilirubin, direct',
    kind: 'bilirubin',
    canonicalUnit: 'umol/L',
    // 0.3 mg/dL in one lab-style table = 5.1 µmol/L.
    defaultUln: { male: 5.1, female: 5.1, status: 'P', source: '[S13] one lab-style table' },
    // UNVERIFIED: recalled from the Ricos biological-variation database, not re-read.
    biologicalVariation: {
      cviPct: 36.8,
      cviStatus: 'U',
      cviSource: 'recalled Ricos database value, not verified',
      cvaPct: ASSUMED_CVA_PCT,
    },
    // ULN listed: 5.1 µmol/L (0.3 mg/dL [S13]). Direct bilirubin cannot exceed total: same maximum.
    plausibility: {
      maxValue: 1_500,
      uln: { low: 2.55, high: 10.2 },
      status: 'U',
      source: 'ULN band from [S13] (reference §2b); maximum that of total bilirubin',
    },
  },
};

/**
 * Default ULNs below the adult age, by completed years at the result's date (reference.md §2b,
 * Mayo Clinic Laboratories [S8], status V). `toYears` is exclusive; from the last band's `toYears`
 * on, the adult limit in ANALYTES applies. Used only when a result carries no reference range.
 * ALT, total and direct bilirubin have no paediatric rows in the clinical reference, so they keep the
 * adult default at every age (the card says so below 18).
 */
export interface AgeBandUln {
  fromYears: number;
  toYears: number;
  male: number;
  female: number;
  /** Shown on the card: the interval as the source gives it. */
  label: string;
  status: EvidenceStatus;
  source: string;
}

const MAYO = '[S8] Mayo Clinic Laboratories';

export const PEDIATRIC_DEFAULT_ULNS: Readonly<Partial<Record<Analyte, readonly AgeBandUln[]>>> = {
  // Bone growth: ALP 2–4× the adult ULN is normal (§2c). Under 15 days no interval is given; the
  // 15 d–<1 y limit is used there too, the highest of the infant rows, so a newborn is not flagged.
  ALP: [
    {
      fromYears: 0,
      toYears: 1,
      male: 469,
      female: 469,
      label: '15 d–<1 y',
      status: 'V',
      source: MAYO,
    },
    {
      fromYears: 1,
      toYears: 10,
      male: 335,
      female: 335,
      label: '1–<10 y',
      status: 'V',
      source: MAYO,
    },
    {
      fromYears: 10,
      toYears: 13,
      male: 417,
      female: 417,
      label: '10–<13 y',
      status: 'V',
      source: MAYO,
    },
    {
      fromYears: 13,
      toYears: 15,
      male: 468,
      female: 254,
      label: '13–<15 y',
      status: 'V',
      source: MAYO,
    },
    {
      fromYears: 15,
      toYears: 17,
      male: 331,
      female: 117,
      label: '15–<17 y',
      status: 'V',
      source: MAYO,
    },
    // Women reach the adult interval (≥17 y, 104) two years before men (≥19 y, 129).
    {
      fromYears: 17,
      toYears: 19,
      male: 149,
      female: 104,
      label: '17–<19 y',
      status: 'V',
      source: MAYO,
    },
  ],
  // Mayo gives 1–13 y only ("<1 y not established"); that interval is used under 1 year as well.
  AST: [
    { fromYears: 0, toYears: 14, male: 60, female: 50, label: '1–13 y', status: 'V', source: MAYO },
  ],
  GGT: [
    {
      fromYears: 0,
      toYears: 1,
      male: 178,
      female: 178,
      label: '0–11 mo',
      status: 'V',
      source: MAYO,
    },
    { fromYears: 1, toYears: 7, male: 21, female: 21, label: '1–6 y', status: 'V', source: MAYO },
    { fromYears: 7, toYears: 13, male: 24, female: 24, label: '7–12 y', status: 'V', source: MAYO },
    {
      fromYears: 13,
      toYears: 18,
      male: 43,
      female: 26,
      label: '13–17 y',
      status: 'V',
      source: MAYO,
    },
  ],
};

/** Below this age the card names the default interval each result was compared with. */
export const ADULT_AGE_YEARS = 18;

export const ANALYTE_LIST: readonly Analyte[] = ['ALP', 'AST', 'ALT', 'GGT', 'TBIL', 'DBIL'];

const CODE_INDEX: ReadonlyMap<string, AnalyteCode> = new Map(
  ANALYTE_CODES.map((c) => [c.loinc, c]),
);

function collectCodes(): Record<Analyte, string[]> {
  const codes: Record<Analyte, string[]> = {
    ALP: [],
    AST: [],
    ALT: [],
    GGT: [],
    TBIL: [],
    DBIL: [],
  };
  for (const row of ANALYTE_CODES) {
    codes[row.analyte].push(row.loinc);
  }
  return codes;
}

/** LOINC codes per analyte, e.g. for an Observation search `code=http://loinc.org|6768-6,...`. */
export const ANALYTE_LOINC_CODES: Record<Analyte, string[]> = collectCodes();

/** Every mapped LOINC code, in table order. */
export function listAnalyteLoincCodes(): string[] {
  return ANALYTE_CODES.map((c) => c.loinc);
}

export function findAnalyteCode(loinc: string): AnalyteCode | undefined {
  return CODE_INDEX.get(loinc);
}

/**
 * Default ULN for a sex and, when known, the completed age in years at the result's date (the
 * paediatric bands above, else the adult limit). Unknown sex takes the higher of the two limits, so a
 * missing gender never makes a result look raised that would be normal for either sex.
 */
export function selectDefaultUln(
  analyte: Analyte,
  sex: AdministrativeSex,
  ageYears: number | null = null,
): { uln: number; sexSpecific: boolean; band?: AgeBandUln } {
  const band =
    ageYears === null
      ? undefined
      : PEDIATRIC_DEFAULT_ULNS[analyte]?.find(
          (b) => ageYears >= b.fromYears && ageYears < b.toYears,
        );
  const { male, female } = band ?? ANALYTES[analyte].defaultUln;
  const picked = pickBySex(male, female, sex);
  return band === undefined ? picked : { ...picked, band };
}

function pickBySex(
  male: number,
  female: number,
  sex: AdministrativeSex,
): { uln: number; sexSpecific: boolean } {
  if (male === female) {
    return { uln: male, sexSpecific: false };
  }
  switch (sex) {
    case 'male':
      return { uln: male, sexSpecific: true };
    case 'female':
      return { uln: female, sexSpecific: true };
    case 'unknown':
      return { uln: Math.max(male, female), sexSpecific: false };
  }
}

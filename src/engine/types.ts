// The engine's output contract. Everything here is plain JSON-serialisable data: cards, the trend page
// and reviewers read it, and every number points back to the Observation ids it came from.

export type Analyte = 'ALP' | 'AST' | 'ALT' | 'GGT' | 'TBIL' | 'DBIL';

export type AdministrativeSex = 'male' | 'female' | 'unknown';

export type Direction = 'rising' | 'falling' | 'stable' | 'insufficient';

export type UlnSource = 'reference-range' | 'default-sex-specific' | 'default-unisex';

export interface LabPoint {
  observationId: string;
  loinc: string;
  /** ISO 8601 instant the specimen was taken (effective[x], else issued). */
  time: string;
  /** `time` in epoch milliseconds, so that consumers compare and subtract without parsing it again. */
  timeMs: number;
  /** Value in the analyte's canonical unit (U/L for enzymes, umol/L for bilirubin). */
  value: number;
  unit: string;
  /** Set when the lab reported a comparator: the true value lies beyond `value`. */
  censored?: '<' | '<=' | '>' | '>=';
  uln: number;
  ulnSource: UlnSource;
  /** value / uln */
  xUln: number;
  /**
   * Set when a default ULN was used for a patient under 18 at the result's date: the interval, for the
   * card to name (e.g. "ALP ≤468 U/L, male 13–<15 y [S8]").
   */
  defaultInterval?: string;
  /** The lab's range high limit when it was implausible and the default ULN replaced it. */
  rejectedUln?: number;
  /** The value and unit exactly as the lab reported them, before conversion. */
  reported?: { value: number; unit: string };
}

export interface Trend {
  direction: Direction;
  method: 'theil-sen' | 'two-point' | 'none';
  pointCount: number;
  spanDays: number;
  /**
   * Theil–Sen slope of ln(×ULN) expressed as % change per 30 days; null with fewer than 3 points. The
   * trend is fitted on ×ULN, so with one ULN throughout it equals the change in the reported unit.
   */
  slopePctPer30d: number | null;
  /** Relative change of ×ULN from first to last point, in %. */
  changePct: number | null;
  /** Log-normal reference change values (%, 95 % one-sided) the change had to exceed. */
  rcvUpPct: number;
  rcvDownPct: number;
  /** Whether changePct lies beyond the RCV; set whenever changePct is (also for two points). */
  changeExceedsRcv?: boolean;
  /** The fitted results do not all share one ULN (method, lab or catalogue change): set with changePct. */
  ulnChanged?: boolean;
  /**
   * Set when the series changed course recently: every field above then describes only the results
   * from the turning point on (`from`–`to`); `earlier` is the regime before it.
   */
  recentSegment?: {
    from: string;
    to: string;
    earlier: {
      direction: Direction;
      slopePctPer30d: number | null;
      from: string;
      to: string;
      pointCount: number;
    };
    /** What one fit over the whole window would have said. */
    wholeWindowDirection: Direction;
  };
}

export interface AnalyteSeries {
  analyte: Analyte;
  unit: string;
  points: LabPoint[];
  latest: LabPoint | null;
  trend: Trend;
}

export type PatternClass = 'cholestatic' | 'mixed' | 'hepatocellular';

export interface RRatio {
  value: number;
  patternClass: PatternClass;
  time: string;
  altObservationId: string;
  alpObservationId: string;
}

export type SeverityTier = 'below-5x' | '5-10x' | 'above-10x';

export interface Findings {
  divergence: {
    present: boolean;
    alp: Direction;
    ast: Direction;
    alt: Direction;
    observationIds: string[];
  };
  rRatio: {
    first: RRatio | null;
    last: RRatio | null;
    /** first.value - last.value; positive when the pattern moved toward cholestatic. */
    fall: number | null;
  };
  deRitis: {
    value: number;
    time: string;
    atLeastOne: boolean;
    astObservationId: string;
    altObservationId: string;
  } | null;
  severity: {
    tier: SeverityTier;
    alpXUln: number;
    atLeast2xUln: boolean;
    observationId: string;
  } | null;
  ggt: {
    status: 'none-in-window' | 'normal' | 'raised';
    latest: LabPoint | null;
  };
  bilirubin: {
    status: 'none-in-window' | 'normal' | 'raised';
    hasDirect: boolean;
    /** direct / total at the latest date both were measured; null when not available. */
    directFraction: number | null;
    latestTotal: LabPoint | null;
    latestDirect: LabPoint | null;
  };
}

export interface ExcludedResult {
  observationId: string;
  reason: string;
  analyte?: Analyte;
}

export interface DataQualityNote {
  code:
    | 'excluded-results'
    | 'stale-latest'
    | 'too-few-points'
    | 'no-data'
    | 'mixed-methods'
    | 'incomplete-search'
    | 'other-patient-data'
    | 'implausible-reference-range';
  message: string;
  analyte?: Analyte;
}

export interface Assessment {
  evaluatedAt: string;
  lookbackDays: number;
  patient: {
    id: string | null;
    sex: AdministrativeSex;
    ageYears: number | null;
  };
  series: Record<Analyte, AnalyteSeries>;
  findings: Findings;
  excluded: ExcludedResult[];
  dataQuality: DataQualityNote[];
}

import type { Analyte, AnalyteSeries, Assessment, Direction, LabPoint } from '../engine/types.js';

// Markdown blocks that fill the `{{slots}}` of the detail templates. Numbers and layout live here;
// every sentence of clinical wording lives in `cards/`.

// Bilirubin is summarised in the text (latest value, direct share) to keep the table four columns wide.
const TABLE_ANALYTES: readonly Analyte[] = ['ALP', 'ALT', 'AST', 'GGT'];
const TREND_ANALYTES: readonly Analyte[] = ['ALP', 'ALT', 'AST', 'GGT'];
const MAX_TABLE_ROWS = 8;

export const ANALYTE_LABELS: Readonly<Record<Analyte, string>> = {
  ALP: 'ALP',
  AST: 'AST',
  ALT: 'ALT',
  GGT: 'GGT',
  TBIL: 'Bili total',
  DBIL: 'Bili direct',
};

/** How a trend direction reads in a summary; "insufficient" is never presented as a trend. */
export function describeDirection(direction: Direction): string {
  switch (direction) {
    case 'rising':
      return 'rising';
    case 'falling':
      return 'falling';
    case 'stable':
      return 'stable';
    case 'insufficient':
      return 'too few results';
  }
}

export function formatXUln(xUln: number): string {
  return xUln >= 100 ? xUln.toFixed(0) : xUln.toFixed(1);
}

export function formatDate(iso: string): string {
  return iso.slice(0, 10);
}

/** One row per specimen date (newest rows kept), one column per analyte with results: value (×ULN). */
export function renderSeriesTable(assessment: Assessment): string {
  const columns = TABLE_ANALYTES.filter((analyte) => assessment.series[analyte].points.length > 0);
  if (columns.length === 0) {
    return '';
  }
  const rows = new Map<string, Partial<Record<Analyte, LabPoint>>>();
  for (const analyte of columns) {
    for (const point of assessment.series[analyte].points) {
      const date = formatDate(point.time);
      const row = rows.get(date);
      if (row === undefined) {
        rows.set(date, { [analyte]: point });
      } else {
        row[analyte] = point;
      }
    }
  }
  const dates = [...rows.keys()].sort();
  const shown = dates.slice(-MAX_TABLE_ROWS);
  // A column keeps its unit in the header when the lab reported one unit throughout, else per cell.
  const units = new Map(
    columns.map((analyte) => [analyte, commonReportedUnit(assessment.series[analyte].points)]),
  );
  const header = `| Date | ${columns
    .map((analyte) => {
      const unit = units.get(analyte);
      return `${ANALYTE_LABELS[analyte]}${unit === null || unit === undefined ? '' : ` ${displayUnit(unit)}`} (×ULN)`;
    })
    .join(' | ')} |`;
  const divider = `|---|${columns.map(() => '---:').join('|')}|`;
  const body = shown.map((date) => {
    const row = rows.get(date) ?? {};
    return `| ${date} | ${columns
      .map((analyte) => formatCell(row[analyte], units.get(analyte) === null))
      .join(' | ')} |`;
  });
  const hidden = dates.length - shown.length;
  const note = hidden > 0 ? `\n\n${hidden} earlier date(s) not shown.` : '';
  return [header, divider, ...body].join('\n') + note;
}

function formatCell(point: LabPoint | undefined, withUnit: boolean): string {
  if (point === undefined) {
    return '–';
  }
  const unit = withUnit ? ` ${displayUnit(reportedOf(point).unit)}` : '';
  return `${point.censored ?? ''}${formatValue(point)}${unit} (${formatXUln(point.xUln)})`;
}

/** The one unit every point was reported in, or null when the lab changed units within the series. */
function commonReportedUnit(points: readonly LabPoint[]): string | null {
  const units = new Set(points.map((point) => reportedOf(point).unit));
  const [only] = units;
  return units.size === 1 && only !== undefined ? only : null;
}

/** The value as the lab reported it (points built before conversion was recorded fall back to canonical). */
function reportedOf(point: LabPoint): { value: number; unit: string } {
  return point.reported ?? { value: point.value, unit: point.unit };
}

/** The reported value, to at most four significant digits: the lab's own figure, not our conversion. */
export function formatValue(point: LabPoint): string {
  return String(Number(reportedOf(point).value.toPrecision(4)));
}

/** The unit the lab reported, as the card shows it. */
export function formatReportedUnit(point: LabPoint): string {
  return displayUnit(reportedOf(point).unit);
}

// UCUM writes the micro prefix as "u"; labs also send "mc" or "mu". A clinician reads µ.
const MICRO_PREFIX = /(^|[/.*( ])(?:u|mc|mu)(?=(?:mol|kat|g|L|l|IU|\[IU\]|U)\b)/g;

/** A unit as the card shows it: µ spelled µ (µmol/L, µkat/L), everything else as reported. */
export function displayUnit(unit: string): string {
  return unit.replace(MICRO_PREFIX, '$1µ');
}

/**
 * "ALP rising +48 %/30 d · ALT falling −25 %/30 d · GGT no significant change (+9 %/30 d, within the
 * reference change value)", from the Theil–Sen slope of ×ULN or, failing that, first→last.
 */
export function renderSlopes(assessment: Assessment): string {
  const parts = TREND_ANALYTES.map((analyte) => assessment.series[analyte])
    .filter((series) => series.trend.direction !== 'insufficient')
    .map(describeSlope);
  return parts.length === 0 ? '' : `Trend: ${parts.join(' · ')}.`;
}

function describeSlope(series: AnalyteSeries): string {
  const { trend } = series;
  const name = `**${ANALYTE_LABELS[series.analyte]}**`;
  const rate =
    trend.slopePctPer30d !== null
      ? `${signed(trend.slopePctPer30d)} %/30 d`
      : trend.changePct !== null
        ? `${signed(trend.changePct)} % first→last`
        : '';
  // Fitted on ×ULN; say so when the ULN moved, so a U/L fall that is flat in ×ULN is not read as a fall.
  const moved = trend.ulnChanged === true;
  if (trend.direction === 'stable') {
    // "stable" next to a percentage reads as a change; name why the change does not count.
    const why =
      trend.changeExceedsRcv === true
        ? 'first→last and slope disagree'
        : 'within the reference change value';
    const ulnNote = moved ? '; the ULN changed between results' : '';
    return rate === ''
      ? `${name} no significant change`
      : `${name} no significant change (${rate}${moved ? ' in ×ULN' : ''}, ${why}${ulnNote})`;
  }
  const label = `${name} ${describeDirection(trend.direction)}`;
  const basis = moved ? ' in ×ULN (the ULN changed between results)' : '';
  return `${rate === '' ? label : `${label} ${rate}${basis}`}${describeSegment(trend)}`;
}

/** " since 2026-05-04 (3 results to 2026-05-31; before: falling −12 %/30 d from 2025-12-15)". */
function describeSegment(trend: AnalyteSeries['trend']): string {
  const segment = trend.recentSegment;
  if (segment === undefined) {
    return '';
  }
  const { earlier } = segment;
  const before =
    earlier.direction === 'stable'
      ? 'no significant change'
      : `${describeDirection(earlier.direction)}${
          earlier.slopePctPer30d === null ? '' : ` ${signed(earlier.slopePctPer30d)} %/30 d`
        }`;
  return ` since ${formatDate(segment.from)} (${trend.pointCount} results to ${formatDate(
    segment.to,
  )}; before: ${before} from ${formatDate(earlier.from)})`;
}

function signed(value: number): string {
  const rounded = Math.round(value);
  return rounded > 0 ? `+${rounded}` : rounded < 0 ? `−${Math.abs(rounded)}` : '0';
}

/** R = (ALT/ULN)/(ALP/ULN), first → last, with its pattern class (W3). */
export function renderRRatio(assessment: Assessment): string {
  const { first, last } = assessment.findings.rRatio;
  if (last === null) {
    return '';
  }
  const latest = `${last.value.toFixed(1)} (${last.patternClass})`;
  if (first === null || first.time === last.time) {
    return `R (ALT×ULN ÷ ALP×ULN) ${latest} on ${formatDate(last.time)}.`;
  }
  return `R (ALT×ULN ÷ ALP×ULN) ${first.value.toFixed(1)} (${first.patternClass}) on ${formatDate(
    first.time,
  )} → ${latest} on ${formatDate(last.time)}.`;
}

/** The engine's data-quality notes, plus a note when ×ULN rests on default limits. */
export function renderDataQuality(assessment: Assessment): string {
  const notes = assessment.dataQuality.map((note) => note.message);
  const usesDefaults = (['ALP', 'ALT', 'AST'] as const).some((analyte) =>
    assessment.series[analyte].points.some((point) => point.ulnSource !== 'reference-range'),
  );
  if (usesDefaults) {
    notes.push(
      `Some results carry no reference range: ×ULN uses default limits (${
        assessment.patient.sex === 'unknown' ? 'sex unknown' : `${assessment.patient.sex} limits`
      }).`,
    );
  }
  const intervals = listDefaultIntervals(assessment);
  if (intervals.length > 0) {
    notes.push(
      `Under 18 at the result date, with no reference range sent: ×ULN uses the default interval for age and sex: ${intervals.join('; ')}.`,
    );
  }
  return notes.map((note) => `- ${note}`).join('\n');
}

/** The distinct children's default intervals the shown analytes were compared with, oldest first. */
function listDefaultIntervals(assessment: Assessment): string[] {
  const intervals = new Set<string>();
  for (const analyte of TABLE_ANALYTES) {
    for (const point of assessment.series[analyte].points) {
      if (point.defaultInterval !== undefined) {
        intervals.add(point.defaultInterval);
      }
    }
  }
  return [...intervals];
}

import { escapeHtml, serialiseJsonForHtml } from './html.js';
import type { TrendView, TrendViewSeries } from './trend-view.js';

// Server-rendered shell: the summary and the value tables are plain HTML (readable without scripts and
// by screen readers); the chart is drawn by /assets/trend/trend-page.js from the embedded JSON block.
// Asset URLs are relative ("../assets/…") so the page also works behind a path prefix.

const SEVERITY_TEXT: Record<NonNullable<TrendView['severity']>['tier'], string> = {
  'below-5x': 'below 5 × ULN',
  '5-10x': '5–10 × ULN',
  'above-10x': 'above 10 × ULN',
};

function formatDate(iso: string): string {
  return iso.slice(0, 10);
}

function formatNumber(value: number, digits = 1): string {
  return value.toFixed(digits);
}

/** Lab values as a lab would print them: whole numbers stay whole, small values keep two decimals. */
function formatLabValue(value: number): string {
  if (Number.isInteger(value)) {
    return String(value);
  }
  return value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}

function formatSlope(series: TrendViewSeries): string {
  if (series.slopePctPer30d === null) {
    return series.direction === 'insufficient' ? 'too few results for a trend' : series.direction;
  }
  const sign = series.slopePctPer30d > 0 ? '+' : '';
  const since = series.trendFrom === undefined ? '' : ` since ${series.trendFrom.slice(0, 10)}`;
  return `${series.direction}, ${sign}${formatNumber(series.slopePctPer30d)} % per 30 days${since}`;
}

function renderShell(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../assets/trend/trend.css">
${head}</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function renderSummary(view: TrendView): string {
  const rows: string[] = [];
  if (view.severity !== null) {
    rows.push(
      `<dt>Latest ALP</dt><dd>${formatNumber(view.severity.alpXUln)} × ULN (${escapeHtml(SEVERITY_TEXT[view.severity.tier])})</dd>`,
    );
  }
  const { first, last } = view.rRatio;
  const describeR = (r: NonNullable<TrendView['rRatio']['first']>): string =>
    `${formatNumber(r.value)} (${escapeHtml(r.patternClass)}) on <time datetime="${escapeHtml(r.time)}">${formatDate(r.time)}</time>`;
  if (first !== null) {
    rows.push(`<dt>R at first point</dt><dd data-r="first">${describeR(first)}</dd>`);
  }
  if (last !== null) {
    rows.push(`<dt>R at last point</dt><dd data-r="last">${describeR(last)}</dd>`);
  }
  rows.push(
    `<dt>Pattern</dt><dd>${view.divergence ? 'ALP rising while AST/ALT fall' : 'no ALP-up, AST/ALT-down divergence'}</dd>`,
  );
  for (const series of view.series) {
    rows.push(`<dt>${escapeHtml(series.label)}</dt><dd>${escapeHtml(formatSlope(series))}</dd>`);
  }
  return `<section aria-labelledby="summary-heading">
<h2 id="summary-heading">Summary</h2>
<dl class="summary">${rows.join('')}</dl>
<p class="note">R = (ALT ÷ ULN) ÷ (ALP ÷ ULN): 5 or more hepatocellular, 2 or less cholestatic, mixed between.</p>
</section>`;
}

function renderSeriesTable(series: TrendViewSeries): string {
  const rows = series.points
    .map(
      (p) =>
        `<tr><th scope="row"><time datetime="${escapeHtml(p.time)}">${formatDate(p.time)}</time></th>` +
        `<td>${escapeHtml(p.censored ?? '')}${formatLabValue(p.value)}</td>` +
        `<td>${formatLabValue(p.uln)}</td>` +
        `<td>${formatNumber(p.xUln, 2)}</td></tr>`,
    )
    .join('');
  return `<table class="values" data-analyte="${series.analyte}">
<caption>${escapeHtml(series.label)} (${escapeHtml(series.unit)}): ${escapeHtml(formatSlope(series))}</caption>
<thead><tr><th scope="col">Date</th><th scope="col">Value</th><th scope="col">ULN</th><th scope="col">× ULN</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

export function renderTrendPage(view: TrendView): string {
  const analytes = view.series.map((s) => s.label).join(', ');
  const body = `<header>
<h1>Liver enzyme trends</h1>
<p class="meta">Evaluated <time datetime="${escapeHtml(view.evaluatedAt)}">${formatDate(view.evaluatedAt)}</time>
over the previous ${view.lookbackDays} days. This page is a snapshot; its link stops working at
<time datetime="${escapeHtml(view.expiresAt)}">${escapeHtml(view.expiresAt.slice(11, 16))} UTC</time>.</p>
</header>
${renderSummary(view)}
<section aria-labelledby="chart-heading">
<h2 id="chart-heading">Multiples of the upper limit of normal</h2>
<figure id="trend-figure">
<div class="chart-box"><canvas id="trend-chart" role="img" aria-label="Chart of ${escapeHtml(analytes)} as multiples of the upper limit of normal over time; the same values are in the tables below."></canvas></div>
<figcaption>Logarithmic scale. Dashed line: upper limit of normal (1 × ULN). Shaded bands start at 2, 5 and 10 × ULN. Thin dashed lines: fitted Theil–Sen trend of each analyte.</figcaption>
</figure>
<p class="no-script" id="chart-fallback">The chart needs JavaScript; the values are in the tables below.</p>
</section>
<section aria-labelledby="values-heading">
<h2 id="values-heading">Values</h2>
${view.series.length === 0 ? '<p>No results in the window.</p>' : `<div class="tables">${view.series.map(renderSeriesTable).join('\n')}</div>`}
</section>
${
  view.notes.length === 0
    ? ''
    : `<section aria-labelledby="notes-heading"><h2 id="notes-heading">Data notes</h2><ul>${view.notes
        .map((note) => `<li>${escapeHtml(note)}</li>`)
        .join('')}</ul></section>`
}
<footer><p>Decision support only: check the results in the record before acting.</p></footer>
<script type="application/json" id="trend-data">${serialiseJsonForHtml(view)}</script>`;
  const head = `<script src="../assets/vendor/chart.umd.js" defer></script>
<script src="../assets/trend/trend-page.js" defer></script>
`;
  return renderShell('Liver enzyme trends', body, head);
}

/** Shown for unknown and expired ids alike: the reader only needs to know how to get a fresh link. */
export function renderExpiredPage(): string {
  return renderShell(
    'Trend link expired',
    `<h1>This trend link has expired</h1>
<p>Trend pages are kept for a short time only and are not stored with the patient record, so this
link no longer shows anything.</p>
<p>To see the current trend, re-open the patient's chart in the EHR: the liver trends card is
refreshed with a new link each time the chart is opened.</p>`,
  );
}

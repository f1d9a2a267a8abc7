import { readFile } from 'node:fs/promises';
import { escapeHtml } from '../trend/html.js';
import { VENDOR_FILES } from '../trend/static-paths.js';
import type { SweepSummary } from './sweep-summary.js';

const INDICATORS = ['critical', 'warning', 'info'] as const;
const COLOURS: Record<string, string> = {
  critical: '#b3261e',
  warning: '#b86e00',
  info: '#1f5fa8',
};

/**
 * `report.html`: the summary as one self-contained page (the bundled Chart.js inlined, no network),
 * so it opens from disk on a workstation without internet. Every chart has its table beside it.
 */
export async function renderReport(summary: SweepSummary): Promise<string> {
  const chartJs = (await readFile(VENDOR_FILES['chart.umd.js'] ?? '', 'utf8')).replace(
    /<\/script/gi,
    '<\\/script',
  );
  const kinds = Object.keys(summary.cards.byKind).sort();
  const data = JSON.stringify({
    indicators: INDICATORS.map((i) => ({
      label: i,
      colour: COLOURS[i],
      total: summary.cards.byIndicator[i] ?? 0,
      byKind: kinds.map((k) => summary.cards.byKind[k]?.[i] ?? 0),
    })),
    kinds,
  }).replace(/</g, '\\u003c');
  const shards =
    summary.shards.count === 1
      ? 'one run'
      : `shards ${summary.shards.indexes.join(', ')} of ${summary.shards.count}`;
  const rows = (entries: [string, number][]) =>
    entries.length === 0
      ? '<tr><td colspan="2">none</td></tr>'
      : entries
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${fmt(v)}</td></tr>`)
          .join('');
  const kindRows = kinds
    .map(
      (kind) =>
        `<tr><th scope="row">${escapeHtml(kind)}</th>${INDICATORS.map((i) => `<td>${fmt(summary.cards.byKind[kind]?.[i] ?? 0)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hepatic Trends: alert burden forecast</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1.5rem;color:#1b1b1b}
h1{font-size:1.5rem;margin:0 0 .25rem}.meta{color:#555;margin:0 0 1.25rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.75rem;margin-bottom:1.5rem}
.tile{border:1px solid #d0d4da;border-radius:8px;padding:.75rem 1rem}.tile b{display:block;font-size:1.6rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1.5rem}
.box{position:relative;height:280px}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.3rem .5rem;text-align:left}td{text-align:right}
</style>
</head>
<body>
<h1>Alert burden forecast</h1>
<p class="meta">liver-trends patient-view, as of ${escapeHtml(summary.now)}, look-back ${summary.lookbackDays} days, ${escapeHtml(shards)}; ${fmt(summary.inputFiles)} input files, ${fmt(summary.linesRead)} resources.</p>
<div class="tiles">
<div class="tile">Patients read<b>${fmt(summary.patientsRead)}</b></div>
<div class="tile">Patients with a card<b>${fmt(summary.patientsFlagged)}</b>${fmt(summary.flaggedPer1000Patients)} per 1 000</div>
<div class="tile">Cards<b>${fmt(summary.cards.total)}</b>${fmt(summary.cardsPer1000Patients)} per 1 000 patients</div>
<div class="tile">Patients not assessed<b>${fmt(summary.patientsFailed)}</b>see failures below</div>
</div>
<div class="charts">
<section><h2>Cards by indicator</h2><div class="box"><canvas id="by-indicator" role="img" aria-label="Bar chart of cards by indicator; the same numbers are in the table below."></canvas></div>
<table><thead><tr><th>Indicator</th><th>Cards</th></tr></thead><tbody>${rows(INDICATORS.map((i) => [i, summary.cards.byIndicator[i] ?? 0]))}</tbody></table></section>
<section><h2>Cards by kind</h2><div class="box"><canvas id="by-kind" role="img" aria-label="Stacked bar chart of cards by kind and indicator; the same numbers are in the table below."></canvas></div>
<table><thead><tr><th>Kind</th>${INDICATORS.map((i) => `<th>${i}</th>`).join('')}</tr></thead><tbody>${kindRows || '<tr><td colspan="4">none</td></tr>'}</tbody></table></section>
</div>
<h2>Records left out, and why</h2>
<table><tbody>${rows(Object.entries(summary.excluded))}</tbody></table>
<h2>Resources read, by type</h2>
<table><tbody>${rows(Object.entries(summary.resourcesByType))}</tbody></table>
${summary.failures.length === 0 ? '' : `<h2>Failures (first ${summary.failures.length})</h2><ul>${summary.failures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`}
<script>${chartJs}</script>
<script>
const data = ${data};
new Chart(document.getElementById('by-indicator'), {type:'bar',data:{labels:data.indicators.map(d=>d.label),datasets:[{label:'cards',data:data.indicators.map(d=>d.total),backgroundColor:data.indicators.map(d=>d.colour)}]},options:{maintainAspectRatio:false,animation:false,plugins:{legend:{display:false}}}});
new Chart(document.getElementById('by-kind'), {type:'bar',data:{labels:data.kinds,datasets:data.indicators.map(d=>({label:d.label,data:d.byKind,backgroundColor:d.colour}))},options:{maintainAspectRatio:false,animation:false,scales:{x:{stacked:true},y:{stacked:true}}}});
</script>
</body>
</html>
`;
}

function fmt(value: number): string {
  return value.toLocaleString('en-US').replace(/,/g, ' ');
}

/* global window, document, Chart */
// Draws the trend chart from the JSON block the server embedded in the page. Plain browser script,
// loaded after the bundled Chart.js build; no inline script, so a strict CSP can stay on.
'use strict';

(function drawTrendChart() {
  const dataElement = document.getElementById('trend-data');
  const canvas = document.getElementById('trend-chart');
  const figure = document.getElementById('trend-figure');
  if (!dataElement || !canvas || !figure || typeof Chart === 'undefined') {
    return;
  }
  const fallback = document.getElementById('chart-fallback');
  if (fallback) {
    fallback.hidden = true;
  }
  const view = JSON.parse(dataElement.textContent || '{}');
  const series = Array.isArray(view.series) ? view.series : [];

  // Colour-blind-safe palette (Okabe–Ito) plus a distinct point shape per analyte, so colour is never
  // the only cue.
  const STYLE = {
    ALP: { color: '#0072B2', point: 'circle' },
    AST: { color: '#D55E00', point: 'triangle' },
    ALT: { color: '#009E73', point: 'rect' },
    GGT: { color: '#CC79A7', point: 'rectRot' },
    TBIL: { color: '#8A6D00', point: 'star' },
    DBIL: { color: '#555555', point: 'crossRot' },
  };
  const BANDS = [
    { from: 2, to: 5, fill: 'rgba(240, 228, 66, 0.16)', label: '2×' },
    { from: 5, to: 10, fill: 'rgba(230, 159, 0, 0.16)', label: '5×' },
    { from: 10, to: Infinity, fill: 'rgba(213, 94, 0, 0.14)', label: '10×' },
  ];

  const measured = series.map((s) => {
    const style = STYLE[s.analyte] || { color: '#333333', point: 'circle' };
    return {
      label: s.label,
      analyte: s.analyte,
      data: s.points.map((p) => ({ x: Date.parse(p.time), y: p.xUln })),
      borderColor: style.color,
      backgroundColor: style.color,
      pointStyle: style.point,
      pointRadius: 4,
      borderWidth: 2,
      tension: 0,
    };
  });
  const fitted = series
    .filter((s) => Array.isArray(s.fitted))
    .map((s) => {
      const style = STYLE[s.analyte] || { color: '#333333' };
      return {
        label: s.label + ' trend',
        trendOf: s.analyte,
        data: s.fitted.map((p) => ({ x: Date.parse(p.time), y: p.xUln })),
        borderColor: style.color,
        borderDash: [6, 4],
        borderWidth: 1,
        pointRadius: 0,
        pointHitRadius: 0,
      };
    });

  const values = measured.flatMap((d) => d.data.map((p) => p.y)).filter((y) => y > 0);
  const yMin = Math.min(0.5, ...values.map((y) => y * 0.8));
  const yMax = Math.max(12, ...values.map((y) => y * 1.25));

  const bandsPlugin = {
    id: 'ulnBands',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const y = scales.y;
      ctx.save();
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'left';
      for (const band of BANDS) {
        const top = y.getPixelForValue(Math.min(band.to, y.max));
        const bottom = y.getPixelForValue(band.from);
        if (bottom < chartArea.top) {
          continue;
        }
        const clippedTop = Math.max(top, chartArea.top);
        ctx.fillStyle = band.fill;
        ctx.fillRect(
          chartArea.left,
          clippedTop,
          chartArea.right - chartArea.left,
          bottom - clippedTop,
        );
        ctx.fillStyle = '#444444';
        ctx.fillText(band.label, chartArea.left + 4, bottom - 3);
      }
      const uln = y.getPixelForValue(1);
      ctx.strokeStyle = '#222222';
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(chartArea.left, uln);
      ctx.lineTo(chartArea.right, uln);
      ctx.stroke();
      ctx.fillStyle = '#222222';
      ctx.fillText('ULN', chartArea.left + 4, uln - 3);
      ctx.restore();
    },
  };

  const formatDate = (ms) => new Date(ms).toISOString().slice(0, 10);
  const chart = new Chart(canvas, {
    type: 'line',
    data: { datasets: measured.concat(fitted) },
    plugins: [bandsPlugin],
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: true,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: {
          type: 'linear',
          ticks: { callback: (value) => formatDate(value), maxRotation: 0, autoSkipPadding: 12 },
          title: { display: true, text: 'Date' },
        },
        y: {
          type: 'logarithmic',
          min: yMin,
          max: yMax,
          title: { display: true, text: '× ULN (log scale)' },
          // Ticks exactly at the clinical thresholds rather than Chart.js's decade-based choice.
          afterBuildTicks: (axis) => {
            axis.ticks = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100]
              .filter((v) => v >= axis.min && v <= axis.max)
              .map((value) => ({ value }));
          },
          ticks: { autoSkip: false, callback: (value) => value + '×' },
        },
      },
      plugins: {
        legend: {
          position: 'bottom',
          labels: {
            usePointStyle: true,
            filter: (item, data) => data.datasets[item.datasetIndex].trendOf === undefined,
          },
        },
        tooltip: {
          callbacks: {
            title: (items) => (items.length > 0 ? formatDate(items[0].parsed.x) : ''),
            label: (item) => item.dataset.label + ': ' + item.parsed.y.toFixed(2) + ' × ULN',
          },
        },
      },
    },
  });

  // Exposed for the browser tests and for anyone inspecting the page: one measured series per analyte.
  figure.dataset.series = measured.map((d) => d.analyte).join(',');
  figure.dataset.trendLines = fitted.map((d) => d.trendOf).join(',');
  figure.dataset.ready = 'true';
  window.hepaticTrendChart = chart;
})();

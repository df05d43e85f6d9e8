// Dashboard: the last 24 hours minute by minute (uPlot line charts) and the cases by status. Each
// chart has a text alternative (a table of now / peak / total) because a canvas says nothing to a
// screen reader; verdict lines differ by dash pattern as well as colour.
import uPlot from '../../vendor/uPlot.esm.js';
import { api } from '../api.js';
import { el, fmtNumber, fmtTime, table } from '../dom.js';
import { caseStatuses } from './cases.js';

const refreshMs = 60000;

const charts = [
  { id: 'chart-messages', title: 'Messages per minute', series: [{ key: 'messages', label: 'Messages', stroke: '#1f5fa8' }] },
  {
    id: 'chart-verdicts',
    title: 'Verdicts per minute by action',
    series: [
      { key: 'accept', label: 'Accept', stroke: '#2b7a3d' },
      { key: 'tag', label: 'Tag', stroke: '#8a6d00', dash: [6, 3] },
      { key: 'defer', label: 'Defer', stroke: '#a14d00', dash: [2, 3] },
      { key: 'hold', label: 'Hold', stroke: '#b00020', dash: [10, 3, 2, 3] },
    ],
  },
  { id: 'chart-held', title: 'Messages held', series: [{ key: 'held', label: 'Held', stroke: '#b00020' }] },
  { id: 'chart-open-cases', title: 'Open cases', series: [{ key: 'open_cases', label: 'Open cases', stroke: '#6a3fa0' }] },
  {
    id: 'chart-campaigns',
    title: 'Active campaigns',
    series: [{ key: 'active_campaigns', label: 'Active campaigns', stroke: '#00767a' }],
  },
];

// Charts of the page currently shown; destroyed when the dashboard is rendered again or left.
let live = [];
let timer = null;

function teardown() {
  for (const { plot } of live) plot.destroy();
  live = [];
  if (timer) clearInterval(timer);
  timer = null;
  window.removeEventListener('resize', onResize);
}

function onResize() {
  for (const { plot, box } of live) plot.setSize({ width: chartWidth(box), height: 220 });
}

function chartWidth(box) {
  return Math.max(280, Math.min(box.clientWidth || 600, 1100));
}

// Axis labels in 24-hour UTC, with the date at midnight (uPlot's default is the browser's 12-hour clock).
function utcTick(seconds) {
  const iso = new Date(seconds * 1000).toISOString();
  const hm = iso.slice(11, 16);
  return hm === '00:00' ? iso.slice(0, 10) : hm;
}

function toData(spec, series) {
  // Right after the daemon starts there is one point; a lone x value gives uPlot a zero-width axis,
  // so an empty minute before it is added.
  const points = series.length === 1 ? [{ t_ms: series[0].t_ms - 60000 }, series[0]] : series;
  return [points.map((p) => p.t_ms / 1000), ...spec.series.map((s) => points.map((p) => p[s.key] ?? null))];
}

function stats(values) {
  let peak = null;
  let total = 0;
  for (const v of values) {
    if (v === null) continue;
    total += v;
    if (peak === null || v > peak) peak = v;
  }
  return { now: values.length ? values[values.length - 1] : null, peak, total };
}

function summaryRows(series) {
  const rows = [];
  for (const spec of charts) {
    for (const s of spec.series) {
      const st = stats(series.map((p) => p[s.key] ?? null));
      rows.push([`${spec.title}: ${s.label}`, fmtNumber(st.now), fmtNumber(st.peak)]);
    }
  }
  return rows;
}

function ariaSummary(spec, series) {
  return spec.series.map((s) => {
    const st = stats(series.map((p) => p[s.key] ?? null));
    return `${s.label}: now ${fmtNumber(st.now)}, peak ${fmtNumber(st.peak)}`;
  }).join('; ');
}

function caseCounts(ctx, counts) {
  return table({
    id: 'case-counts',
    compact: true,
    caption: 'Cases by status',
    columns: ['Status', 'Cases'],
    rowHeader: true,
    rows: caseStatuses.map((s) => [el('a', { href: ctx.href('cases', { status: s }) }, s), fmtNumber(counts[s] ?? 0)]),
    rowAttrs: (i) => ({ dataset: { status: caseStatuses[i] } }),
  });
}

export async function render(ctx) {
  teardown();
  const data = await api.dashboard();
  if (!ctx.current()) return;
  const series = data.series || [];
  const updated = el('p', { id: 'dashboard-updated', class: 'note' }, `Data as of ${fmtTime(data.now_ms)}; refreshed every minute.`);
  const countsBox = el('section', { 'aria-labelledby': 'counts-heading' }, el('h2', { id: 'counts-heading' }, 'Cases'),
    caseCounts(ctx, data.cases || {}));
  const grid = el('div', { class: 'charts' });
  const summaryBox = el('div');
  const textAlt = el('details', { id: 'chart-numbers' },
    el('summary', {}, 'The charts as numbers'), summaryBox);
  ctx.main.append(el('h1', { id: 'dashboard' }, 'Dashboard'), updated, countsBox,
    el('section', { 'aria-labelledby': 'charts-heading' },
      el('h2', { id: 'charts-heading' }, 'The last 24 hours, per minute'), grid, textAlt));

  const drawSummary = (s) => {
    summaryBox.replaceChildren(table({
      id: 'chart-summary', caption: 'Latest minute and peak of each chart', columns: ['Series', 'Latest', 'Peak'],
      rows: summaryRows(s), rowHeader: true, empty: 'No data yet.',
    }));
  };
  drawSummary(series);

  for (const spec of charts) {
    const box = el('div', { class: 'chart', id: spec.id, role: 'img', 'aria-label': `${spec.title}. ${ariaSummary(spec, series)}` });
    const figure = el('figure', { class: 'chart-figure' }, el('figcaption', {}, spec.title), box);
    grid.appendChild(figure);
    const opts = {
      width: chartWidth(grid),
      height: 220,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      series: [{ label: 'Time (UTC)', value: (u, v) => (v === null ? '—' : fmtTime(v * 1000)) },
        ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, dash: s.dash, points: { show: (u) => u.data[0].length < 3 } }))],
      axes: [{ values: (u, splits) => splits.map(utcTick) }, { size: 60 }],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { live: true },
    };
    const plot = new uPlot(opts, toData(spec, series), box);
    live.push({ plot, box: grid, spec, el: box });
  }
  window.addEventListener('resize', onResize);

  timer = setInterval(async () => {
    if (!ctx.current()) {
      teardown();
      return;
    }
    try {
      const fresh = await api.dashboard();
      if (!ctx.current()) return;
      const s = fresh.series || [];
      for (const chart of live) {
        chart.plot.setData(toData(chart.spec, s));
        chart.el.setAttribute('aria-label', `${chart.spec.title}. ${ariaSummary(chart.spec, s)}`);
      }
      countsBox.replaceChild(caseCounts(ctx, fresh.cases || {}), countsBox.querySelector('table'));
      drawSummary(s);
      updated.textContent = `Data as of ${fmtTime(fresh.now_ms)}; refreshed every minute.`;
    } catch (e) {
      if (ctx.current()) ctx.showError(e.message);
    }
  }, refreshMs);
}

// The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched).
// A table row per cell with pass/fail and its figures, and per cell two plots: max abs logit
// error per case, and the error of the hidden state after every layer against the interpreter
// (and against transformers where the golden set has hidden states), on log scales. Every plotted
// point carries its number in data-value and a <title>, so a test can read the plot back.

import type { VerifyReport } from '../verify/verify.js';
import type { BuildSummary, CellSummary } from './index.js';
import { worstLogitError } from './index.js';

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(2));

interface Series {
  readonly label: string;
  readonly points: readonly (readonly [string, number | null])[];
  readonly dashed?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];

/** A small log-scale point/line chart as inline SVG. `kind` marks it for tests ('logits' | 'layers'). */
function chart(kind: string, title: string, xLabel: string, series: readonly Series[], bound: number | null, lines: boolean): string {
  const W = 560;
  const H = 220;
  const L = 60;
  const R = 160; // legend column
  const T = 24;
  const B = 40;
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))];
  const vals = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v): v is number => v !== null && v > 0);
  if (bound !== null) vals.push(bound);
  if (vals.length === 0) vals.push(1e-9, 1);
  let lo = Math.floor(Math.log10(Math.min(...vals)));
  let hi = Math.ceil(Math.log10(Math.max(...vals)));
  if (hi <= lo) hi = lo + 1;
  lo = Math.max(lo, -12);
  const floor = 10 ** lo;
  const px = (i: number) => L + ((i + 0.5) * (W - L - R)) / Math.max(1, xs.length);
  const py = (v: number) => T + ((hi - Math.log10(Math.max(v, floor))) * (H - T - B)) / (hi - lo);
  const out: string[] = [`<svg class="plot" data-kind="${kind}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}">`];
  out.push(`<text x="${W / 2}" y="14" text-anchor="middle" class="t">${esc(title)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const y = py(10 ** e).toFixed(1);
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" class="grid"/><text x="${L - 4}" y="${y}" text-anchor="end" dominant-baseline="middle" class="a">1e${e}</text>`);
  }
  xs.forEach((x, i) => out.push(`<text x="${px(i).toFixed(1)}" y="${H - B + 14}" text-anchor="middle" class="a">${esc(x)}</text>`));
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" class="a">${esc(xLabel)}</text>`);
  if (bound !== null) out.push(`<line class="bound" data-value="${bound}" x1="${L}" x2="${W - R}" y1="${py(bound).toFixed(1)}" y2="${py(bound).toFixed(1)}"><title>bound ${fmt(bound)}</title></line>`);
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const pts = s.points.filter((p): p is readonly [string, number] => p[1] !== null).map(([x, v]) => [px(xs.indexOf(x)), py(v), x, v] as const);
    if (lines && pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y, xl, v] of pts) {
      out.push(`<circle class="pt" data-series="${esc(s.label)}" data-x="${esc(xl)}" data-value="${v}" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"><title>${esc(s.label)} ${esc(xl)}: ${fmt(v)}</title></circle>`);
    }
    out.push(`<text x="${W - R + 12}" y="${T + 8 + 13 * si}" class="a" style="fill:${color}">${s.dashed ? '- - ' : '\u25cf '}${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

function logitSeries(r: VerifyReport, label: string): Series {
  const pts: [string, number][] = Object.entries(r.cases).map(([n, c]) => [n, c.max_abs_err]);
  if (r.greedy) pts.push(['greedy', r.greedy.max_abs_err]);
  return { label, points: pts };
}

function cellPlots(c: CellSummary): string {
  const v = c.verification;
  if (!v) return '<p>no verification (the cell did not build)</p>';
  const logit: Series[] = [];
  if (v.vs_reference) logit.push(logitSeries(v.vs_reference, 'vs interpreter'));
  if (v.golden) logit.push(logitSeries(v.golden, 'vs transformers'));
  const enforced = v.vs_reference ?? v.golden;
  const parts = [chart('logits', 'max abs logit error per case', 'case', logit, enforced?.thresholds.maxAbs ?? null, false)];
  if (v.layers) {
    const layerSeries: Series[] = [];
    for (const [name, errs] of Object.entries(v.layers.vs_reference)) layerSeries.push({ label: `${name} vs interpreter`, points: errs.map((e, i) => [String(i), e]) });
    for (const [name, errs] of Object.entries(v.layers.vs_golden)) layerSeries.push({ label: `${name} vs transformers`, points: errs.map((e, i) => [String(i), e]), dashed: true });
    parts.push(chart('layers', 'hidden state max abs error after each layer', 'layer', layerSeries, null, true));
  } else parts.push('<p class="note">no per-layer taps for this target</p>');
  return parts.join('');
}

function row(c: CellSummary): string {
  const v = c.verification;
  const worst = v ? worstLogitError(v) : null;
  const kl = v?.golden ? Math.max(...Object.values(v.golden.cases).map((k) => k.kl)) : null;
  const greedy = (v?.vs_reference ?? v?.golden)?.greedy;
  const cells = [
    `<td class="${c.status}">${c.status.toUpperCase()}</td>`,
    `<td>${esc(c.id)}</td>`,
    `<td>${v ? esc(v.against === 'golden' ? (v.vs_reference ? 'interpreter (same graph); transformers reported' : 'transformers') : 'interpreter') : ''}</td>`,
    `<td class="num" data-field="max_abs_err">${worst === null ? '' : fmt(worst)}</td>`,
    `<td class="num">${kl === null ? '' : fmt(kl)}</td>`,
    `<td class="num">${greedy ? `${(greedy.match * 100).toFixed(0)}% of ${greedy.tokens}` : ''}</td>`,
    `<td class="num">${v?.perplexity ? v.perplexity.ppl.toFixed(3) : ''}</td>`,
    `<td>${c.cached ? 'cache' : `${c.seconds.toFixed(1)} s`}</td>`,
    `<td class="mono">${c.sha256 ? c.sha256.slice(0, 12) : esc(c.error ?? '')}</td>`,
  ];
  return `<tr data-cell="${esc(c.id)}">${cells.join('')}</tr>`;
}

const CSS = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:24px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:monospace}.pass{background:#dff5e1}.fail,.error{background:#fbe0e0}section{margin:16px 0;border-top:1px solid #ddd}
.plots{display:flex;gap:16px;flex-wrap:wrap}.grid{stroke:#eee}.a{font-size:10px;fill:#555}.t{font-size:12px}.bound{stroke:#d62728;stroke-dasharray:2 2}.note{color:#777}`;

/** The whole report; `title` defaults to the build file. */
export function buildReportHtml(s: BuildSummary, title = `llamac build: ${s.build_file}`): string {
  const head = '<tr><th>status</th><th>cell</th><th>held to</th><th>max abs logit err</th><th>KL vs transformers</th><th>greedy</th><th>perplexity</th><th>time</th><th>sha256 / error</th></tr>';
  const sections = s.cells.map((c) => `<section data-cell="${esc(c.id)}"><h3>${esc(c.id)} <span class="${c.status}">${c.status.toUpperCase()}</span></h3><div class="plots">${cellPlots(c)}</div></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>
<p>llamac ${esc(s.llamac_version)}: ${s.cells_total} cells, ${s.cells_total - s.cells_failed} passed, ${s.cells_failed} failed; ${s.cells_rebuilt} built, ${s.cells_cached} from cache.</p>
<table>${head}${s.cells.map(row).join('')}</table>
${sections.join('\n')}
</body></html>
`;
}

/**
 * Hand-written SVG plot primitives for the HTML report: a line plot (with markers and vertical
 * guides) and grouped bars. Plain strings, no dependency; every element the browser test looks
 * for carries a class (`series`, `bar`, `marker`). Chosen over a plotting library because the
 * four plot kinds the report needs fit in ~200 lines, while the smallest offline bundles
 * (uPlot ~50 KB, Chart.js ~200 KB, Plotly ~3.5 MB) would be inlined into every report and
 * draw on canvas, which the test could only check by pixels.
 */

/** Colour-blind safe categorical colours (Okabe and Ito), in the order series get them. */
export const SERIES_COLORS: readonly string[] = Object.freeze(['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7f7f7f', '#000000']);

/** Escapes text for HTML / SVG element content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** About `n` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, n = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + (min === 0 ? 1 : Math.abs(min) * 0.1);
  const raw = (max - min) / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Short tick label: up to 3 significant digits, exponent form for tiny or huge values. */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/** One line of a line plot. */
export interface LineSeries {
  name: string;
  color: string;
  /** SVG dash array, e.g. '4 3' (solid when absent). */
  dash?: string;
  /** Stroke opacity (default 1), e.g. for the raw values under a smoothed line. */
  opacity?: number;
  points: [number, number][];
}

/** A point marked on a plot (e.g. the best threshold). */
export interface PlotMarker {
  x: number;
  y: number;
  color: string;
  shape: 'circle' | 'diamond';
  /** Tooltip. */
  title: string;
}

/** Axis settings; min / max default to the data's range (y from 0 when `zero`). */
export interface AxisSpec {
  label: string;
  min?: number;
  max?: number;
  zero?: boolean;
  log?: boolean;
}

/** Options of `linePlot`. Sizes in CSS pixels (the SVG scales to its container). */
export interface LinePlotSpec {
  width?: number;
  height?: number;
  x: AxisSpec;
  y: AxisSpec;
  series: LineSeries[];
  markers?: PlotMarker[];
  /** Vertical dashed guides, e.g. at each series' best threshold. */
  vlines?: { x: number; color: string }[];
  /** Accessible title of the SVG. */
  title: string;
}

const M = { l: 52, r: 22, t: 10, b: 38 };

function range(values: number[], a: AxisSpec): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && (!a.log || v > 0));
  let lo = a.min ?? (finite.length ? Math.min(...finite) : 0);
  let hi = a.max ?? (finite.length ? Math.max(...finite) : 1);
  if (a.zero && a.min === undefined) lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + (a.log ? lo * 10 || 1 : Math.abs(lo) * 0.1 || 1);
  return [lo, hi];
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out.filter((v) => v >= lo * 0.999 && v <= hi * 1.001);
}

function axes(w: number, h: number, xt: { v: number; px: number }[], yt: { v: number; py: number }[], x: AxisSpec, y: AxisSpec): string {
  const parts: string[] = [];
  for (const t of yt) parts.push(`<line class="grid" x1="${M.l}" x2="${w - M.r}" y1="${t.py}" y2="${t.py}"/><text class="tick" x="${M.l - 6}" y="${t.py + 4}" text-anchor="end">${esc(fmtTick(t.v))}</text>`);
  for (const t of xt) parts.push(`<line class="tickmark" x1="${t.px}" x2="${t.px}" y1="${h - M.b}" y2="${h - M.b + 4}"/><text class="tick" x="${t.px}" y="${h - M.b + 16}" text-anchor="middle">${esc(fmtTick(t.v))}</text>`);
  parts.push(`<line class="axis" x1="${M.l}" x2="${w - M.r}" y1="${h - M.b}" y2="${h - M.b}"/><line class="axis" x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${h - M.b}"/>`);
  parts.push(`<text class="label" x="${(M.l + w - M.r) / 2}" y="${h - 4}" text-anchor="middle">${esc(x.label)}</text>`);
  parts.push(`<text class="label" transform="translate(13 ${(M.t + h - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(y.label)}</text>`);
  return parts.join('');
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** A line plot as an SVG string (lines as `<path class="series">`, markers as `class="marker"`). */
export function linePlot(spec: LinePlotSpec): string {
  const w = spec.width ?? 520, h = spec.height ?? 260;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...spec.series.flatMap((s) => s.points.map((p) => p[1])), ...(spec.markers ?? []).map((m) => m.y)];
  const [x0, x1] = range(xs, spec.x), [y0, y1] = range(ys, spec.y);
  const ly = (v: number) => (spec.y.log ? Math.log10(v) : v);
  const px = (v: number) => r2(M.l + ((v - x0) / (x1 - x0)) * (w - M.l - M.r));
  const py = (v: number) => r2(h - M.b - ((ly(v) - ly(y0)) / (ly(y1) - ly(y0))) * (h - M.t - M.b));
  const xt = niceTicks(x0, x1, 6).filter((v) => v >= x0 - 1e-9 && v <= x1 + 1e-9).map((v) => ({ v, px: px(v) }));
  const yt = (spec.y.log ? logTicks(y0, y1) : niceTicks(y0, y1, 5).filter((v) => v >= y0 - 1e-9 && v <= y1 + 1e-9)).map((v) => ({ v, py: py(v) }));
  const parts = [`<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(spec.title)}"><title>${esc(spec.title)}</title>`, axes(w, h, xt, yt, spec.x, spec.y)];
  for (const v of spec.vlines ?? []) parts.push(`<line class="guide" x1="${px(v.x)}" x2="${px(v.x)}" y1="${M.t}" y2="${h - M.b}" stroke="${v.color}"/>`);
  for (const s of spec.series) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!spec.y.log || p[1] > 0));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${px(p[0])},${py(p[1])}`).join('');
    parts.push(`<path class="series" d="${d}" stroke="${s.color}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}" stroke-width="1"` : ''}><title>${esc(s.name)}</title></path>`);
    if (pts.length === 1) parts.push(`<circle class="marker" cx="${px(pts[0][0])}" cy="${py(pts[0][1])}" r="3" fill="${s.color}"/>`);
  }
  for (const m of spec.markers ?? []) {
    const cx = px(m.x), cy = py(m.y);
    parts.push(m.shape === 'circle'
      ? `<circle class="marker" cx="${cx}" cy="${cy}" r="5" fill="${m.color}" stroke="#fff"><title>${esc(m.title)}</title></circle>`
      : `<path class="marker" d="M${cx},${r2(cy - 6)}L${r2(cx + 6)},${cy}L${cx},${r2(cy + 6)}L${r2(cx - 6)},${cy}Z" fill="#fff" stroke="${m.color}" stroke-width="2"><title>${esc(m.title)}</title></path>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Options of `groupedBars`: one group per category, one bar per series. */
export interface BarPlotSpec {
  width?: number;
  height?: number;
  categories: string[];
  series: { name: string; color: string; values: (number | null)[] }[];
  y: AxisSpec;
  title: string;
  /** Value text of a bar's tooltip. */
  format: (v: number) => string;
}

/** Grouped bars as an SVG string (bars as `<rect class="bar">`; null values draw nothing). */
export function groupedBars(spec: BarPlotSpec): string {
  const w = spec.width ?? 520, h = spec.height ?? 240;
  const vals = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const [y0, y1] = range([0, ...vals], { ...spec.y, zero: true });
  const py = (v: number) => r2(h - M.b - ((v - y0) / (y1 - y0)) * (h - M.t - M.b));
  const yt = niceTicks(y0, y1, 5).filter((v) => v <= y1 + 1e-9).map((v) => ({ v, py: py(v) }));
  const gw = (w - M.l - M.r) / Math.max(1, spec.categories.length);
  const bw = (gw * 0.8) / Math.max(1, spec.series.length);
  const parts = [`<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(spec.title)}"><title>${esc(spec.title)}</title>`, axes(w, h, [], yt, { label: '' }, spec.y)];
  spec.categories.forEach((c, ci) => {
    const gx = M.l + ci * gw;
    parts.push(`<text class="tick" x="${r2(gx + gw / 2)}" y="${h - M.b + 15}" text-anchor="middle">${esc(c)}</text>`);
    spec.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const top = py(Math.max(v, y0));
      parts.push(`<rect class="bar" x="${r2(gx + gw * 0.1 + si * bw)}" y="${top}" width="${r2(bw - 1)}" height="${r2(py(y0) - top)}" fill="${s.color}"><title>${esc(`${s.name}, ${c}: ${spec.format(v)}`)}</title></rect>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Centred moving average over `window` points (odd; shrinks at the ends), for noisy curves
 * such as a loss logged every few steps.
 */
export function movingAverage(values: number[], window: number): number[] {
  const h = Math.floor(window / 2);
  return values.map((_, i) => {
    const lo = Math.max(0, i - h), hi = Math.min(values.length - 1, i + h);
    let sum = 0;
    for (let j = lo; j <= hi; j++) sum += values[j];
    return sum / (hi - lo + 1);
  });
}

/** An HTML legend: a swatch and name per entry (dashed swatch for dashed lines). */
export function legend(items: { name: string; color: string; dash?: string }[]): string {
  return `<div class="legend">${items.map((i) => `<span><svg width="22" height="10"><line x1="1" x2="21" y1="5" y2="5" stroke="${i.color}" stroke-width="3"${i.dash ? ` stroke-dasharray="${i.dash}"` : ''}/></svg>${esc(i.name)}</span>`).join('')}</div>`;
}

/** Options of `intervalPlot`: one row per estimate, a point and its interval on a common axis. */
export interface IntervalPlotSpec {
  width?: number;
  rows: { label: string; color: string; mean: number; lo: number; hi: number }[];
  x: AxisSpec;
  title: string;
  format: (v: number) => string;
}

/**
 * A dot-and-whisker (forest) plot as an SVG string: per row the interval as a line
 * (`<path class="series">`) and the mean as a dot, with a dashed line at 0.
 */
export function intervalPlot(spec: IntervalPlotSpec): string {
  const w = spec.width ?? 520, rowH = 28, left = 150, right = 16, top = 8, bottom = 36;
  const h = top + bottom + rowH * spec.rows.length;
  const [x0, x1] = range([0, ...spec.rows.flatMap((r) => [r.lo, r.hi])], spec.x);
  const pad = (x1 - x0) * 0.05;
  const lo = x0 - pad, hi = x1 + pad;
  const px = (v: number) => r2(left + ((v - lo) / (hi - lo)) * (w - left - right));
  const parts = [`<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(spec.title)}"><title>${esc(spec.title)}</title>`];
  for (const t of niceTicks(lo, hi, 6).filter((v) => v >= lo && v <= hi)) {
    parts.push(`<line class="grid" x1="${px(t)}" x2="${px(t)}" y1="${top}" y2="${h - bottom}"/><text class="tick" x="${px(t)}" y="${h - bottom + 15}" text-anchor="middle">${esc(fmtTick(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${left}" x2="${w - right}" y1="${h - bottom}" y2="${h - bottom}"/><line class="zero" x1="${px(0)}" x2="${px(0)}" y1="${top}" y2="${h - bottom}"/>`);
  parts.push(`<text class="label" x="${(left + w - right) / 2}" y="${h - 4}" text-anchor="middle">${esc(spec.x.label)}</text>`);
  spec.rows.forEach((r, i) => {
    const y = r2(top + rowH * (i + 0.5));
    parts.push(`<text class="tick" x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(`<path class="series" d="M${px(r.lo)},${y}L${px(r.hi)},${y}M${px(r.lo)},${y - 5}L${px(r.lo)},${y + 5}M${px(r.hi)},${y - 5}L${px(r.hi)},${y + 5}" stroke="${r.color}"><title>${esc(`${r.label}: ${spec.format(r.mean)} [${spec.format(r.lo)}, ${spec.format(r.hi)}]`)}</title></path>`);
    parts.push(`<circle class="marker" cx="${px(r.mean)}" cy="${y}" r="5" fill="${r.color}"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

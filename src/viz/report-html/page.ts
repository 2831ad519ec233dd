/**
 * The HTML page of the report: one self-contained file (inline CSS, SVG plots, pictures as
 * data: URIs, a few lines of script for the image browser); nothing is fetched.
 */
import { esc, groupedBars, intervalPlot, legend, linePlot, movingAverage, SERIES_COLORS, type LineSeries, type PlotMarker } from './svg.js';
import type { BrowserImage, NumberTable, PerClassGroup, ReportData, SweepGroup, TableCell, TrainingGroup } from './types.js';

const DASHES = ['', '6 3', '2 3', '10 3 2 3'];

/** Colour of a variant (its index in `variants`), grey for unknown names. */
function colorOf(variants: string[], v: string): string {
  const i = variants.indexOf(v);
  return i < 0 ? '#7f7f7f' : SERIES_COLORS[i % SERIES_COLORS.length];
}

/** The text of a table cell (fractions in % with one decimal unless `digits`). */
export function formatCell(c: TableCell): string {
  if ('text' in c) return c.text;
  const d = c.digits ?? 1;
  const f = (v: number) => (c.percent ? (100 * v).toFixed(d) : v.toFixed(d));
  if (c.interval) return `[${f(c.interval[0])}, ${f(c.interval[1])}]`;
  const s = `${c.signed && c.value >= 0 ? '+' : ''}${f(c.value)}`;
  return c.spread !== undefined ? `${s} ± ${f(c.spread)}` : s;
}

function table(t: NumberTable, id: string): string {
  const head = `<tr>${t.headers.map((h, i) => `<th${i ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th>${r.cells.map((c) => ('key' in c
    ? `<td class="num" data-key="${esc(c.key)}" data-value="${c.value}">${esc(formatCell(c))}</td>`
    : `<td class="${c.text === '-' ? 'num' : ''}">${esc(c.text)}</td>`)).join('')}</tr>`).join('');
  return `<table id="${id}"><caption>${esc(t.caption)}</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function trainingFigure(g: TrainingGroup, variants: string[]): string {
  const series = (f: (p: { step: number; loss: number; lr: number }) => number): LineSeries[] => g.series.map((s) => ({
    name: s.name, color: colorOf(variants, s.variant), dash: DASHES[s.seedIndex % DASHES.length] || undefined, points: s.points.map((p) => [p.step, f(p)]),
  }));
  // Long runs: the logged loss faint, a moving average over ~1/25 of the run on top.
  const raw = series((p) => p.loss);
  const smooth = raw.flatMap((s) => {
    const w = 2 * Math.floor(s.points.length / 50) + 1;
    if (w < 5) return [];
    const ys = movingAverage(s.points.map((p) => p[1]), w);
    return [{ ...s, name: `${s.name} (moving average of ${w})`, points: s.points.map((p, i): [number, number] => [p[0], ys[i]]) }];
  });
  const lossSeries = smooth.length ? [...raw.map((s) => ({ ...s, opacity: 0.3 })), ...smooth] : raw;
  const loss = linePlot({ title: `${g.title}: loss`, height: 230, x: { label: 'step' }, y: { label: smooth.length ? 'loss (faint: as logged)' : 'loss' }, series: lossSeries });
  const hasLr = g.series.some((s) => s.points.some((p) => Number.isFinite(p.lr)));
  const lr = hasLr ? linePlot({ title: `${g.title}: learning rate`, height: 130, x: { label: 'step' }, y: { label: 'lr', zero: true }, series: series((p) => p.lr) }) : '';
  return `<figure class="plot" data-plot="training"><figcaption>${esc(g.title)}</figcaption>${loss}${lr ? `<div class="sub">${lr}</div>` : ''}${legend(series(() => 0))}</figure>`;
}

function sweepFigure(g: SweepGroup, variants: string[]): string {
  const series: LineSeries[] = g.series.map((s) => ({ name: s.name, color: colorOf(variants, s.variant), dash: DASHES[s.seedIndex % DASHES.length] || undefined, points: s.curve.map((p) => [p.t, 100 * p.miou]) }));
  const markers: PlotMarker[] = g.series.flatMap((s) => [
    { x: s.bestThreshold, y: 100 * s.miou, color: colorOf(variants, s.variant), shape: 'circle' as const, title: `${s.name}: best t = ${s.bestThreshold.toFixed(2)}, mIoU ${(100 * s.miou).toFixed(1)}%` },
    { x: s.bestThreshold, y: 100 * s.contourF, color: colorOf(variants, s.variant), shape: 'diamond' as const, title: `${s.name}: contour F at t = ${s.bestThreshold.toFixed(2)}: ${(100 * s.contourF).toFixed(1)}%` },
  ]);
  const svg = linePlot({ title: g.title, x: { label: 'background threshold t' }, y: { label: 'mIoU, contour F (%)', zero: true }, series, markers, vlines: g.series.map((s) => ({ x: s.bestThreshold, color: colorOf(variants, s.variant) })) });
  const best = g.series.map((s) => `<li><b style="color:${colorOf(variants, s.variant)}">${esc(s.name)}</b>: best t = <span data-key="sweep:${esc(g.title)}:${esc(s.name)}:t">${s.bestThreshold.toFixed(2)}</span>, mIoU ${(100 * s.miou).toFixed(1)}%, contour F ${(100 * s.contourF).toFixed(1)}%</li>`).join('');
  return `<figure class="plot" data-plot="sweep"><figcaption>${esc(g.title)}</figcaption>${svg}${legend(series)}<ul class="best">${best}</ul></figure>`;
}

function perClassFigures(g: PerClassGroup, variants: string[]): string {
  const s = (f: (x: PerClassGroup['series'][number]) => (number | null)[]) => g.series.map((x) => ({ name: x.name, color: colorOf(variants, x.variant), values: f(x).map((v) => (v === null ? null : 100 * v)) }));
  const fmt = (v: number) => `${v.toFixed(1)}%`;
  // y from 0 to the largest bar rounded up to 10 points (at most 100): small differences stay visible
  const top = (f: (x: PerClassGroup['series'][number]) => number[]) => Math.min(100, 10 * Math.ceil((100 * Math.max(0.01, ...g.series.flatMap(f))) / 10 + 0.001));
  const iou = groupedBars({ title: `${g.title}: IoU`, categories: g.classNames, series: s((x) => x.iou), y: { label: 'IoU (%)', max: top((x) => x.iou) }, format: fmt });
  const cf = groupedBars({ title: `${g.title}: contour F`, categories: g.classNames.slice(1), series: s((x) => x.contourF), y: { label: 'contour F (%)', max: top((x) => x.contourF) }, format: fmt });
  const lg = legend(g.series.map((x) => ({ name: x.name, color: colorOf(variants, x.variant) })));
  return `<figure class="plot" data-plot="per-class"><figcaption>${esc(g.title)}: IoU</figcaption>${iou}${lg}</figure>` +
    `<figure class="plot" data-plot="per-class"><figcaption>${esc(g.title)}: contour F (foreground classes)</figcaption>${cf}${lg}</figure>`;
}

/** Forest plot of the paired table: per comparison and metric, the mean difference and its interval (points). */
function pairedFigure(t: NumberTable, variants: string[]): string {
  const rows = t.rows.flatMap((r) => r.cells.flatMap((c) => {
    if (!('key' in c) || !c.interval) return [];
    const [, label, metric] = c.key.split(':');
    return [{ label: `${metric === 'miou' ? 'mIoU' : 'contour F'}, ${label}`, color: colorOf(variants, label), mean: 100 * c.value, lo: 100 * c.interval[0], hi: 100 * c.interval[1] }];
  }));
  const svg = intervalPlot({ title: 'Paired differences over seeds', rows, x: { label: 'difference (percentage points), 95% interval' }, format: (v) => v.toFixed(1) });
  return `<figure class="plot narrow" data-plot="paired"><figcaption>Variant − baseline (and binomial − multinomial ISL), same seeds</figcaption>${svg}</figure>`;
}

/** A picture: the image (a CSS background class, so its bytes are embedded once per image) with an overlay. */
function tile(base: string, overlay: string | null, kind: string, w: number, h: number, caption: string, iou: number | null): string {
  const ov = overlay ? `<img class="ov ${kind}" src="${overlay}" alt="">` : '';
  const cap = iou !== null && Number.isFinite(iou) ? `<figcaption data-iou="${iou}">image mIoU <b>${(100 * iou).toFixed(1)}%</b></figcaption>` : `<figcaption>${esc(caption)}</figcaption>`;
  return `<figure class="tile"><div class="stack ${base}" style="aspect-ratio:${w}/${h}">${ov}</div>${cap}</figure>`;
}

function imageView(im: BrowserImage, i: number, classNames: string[]): string {
  const bg = `bi${i}`;
  const key = im.classes.map((c) => `<span><i style="background:${c.color}"></i>${esc(classNames[c.index] ?? `class ${c.index}`)}</span>`).join('');
  const head = `<tr><th></th><th>image</th><th>ground truth</th>${im.stages.map((s) => `<th>${esc(s)}</th>`).join('')}</tr>`;
  const rows = im.variants.map((v, vi) => {
    const first = vi === 0 ? `<td>${tile(bg, null, '', im.width, im.height, im.id, null)}</td><td>${tile(bg, im.gt, 'label', im.width, im.height, 'GT', null)}</td>` : '<td></td><td></td>';
    const cells = im.stages.map((s) => {
      const c = im.cells.find((x) => x.variant === v && x.stage === s);
      return `<td>${c ? tile(bg, c.overlay, c.kind, im.width, im.height, c.kind === 'heat' ? 'max over classes' : '', c.iou) : ''}</td>`;
    }).join('');
    return `<tr><th scope="row">${esc(v)}</th>${first}${cells}</tr>`;
  }).join('');
  return `<div class="view" data-id="${esc(im.id)}"${i ? ' hidden' : ''}><h3>${esc(im.id)} <small>(${esc(im.split)})</small></h3><div class="classkey">${key}</div><table class="grid"><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}

function browser(images: BrowserImage[], classNames: string[]): string {
  const thumbs = images.map((im, i) => `<button class="thumb" type="button" aria-pressed="${i === 0}" title="${esc(im.id)} (${esc(im.split)})"><i class="bi${i}" style="aspect-ratio:${im.width}/${im.height}"></i><span>${esc(im.id)}</span></button>`).join('');
  const backgrounds = images.map((im, i) => `.bi${i}{background-image:url("${im.image}")}`).join('\n');
  return `<style>${backgrounds}</style><div id="browser"><div class="controls"><div class="thumbs">${thumbs}</div>` +
    `<label class="slider">overlay opacity <input id="opacity" type="range" min="0" max="100" value="60"> <output id="opacity-value">60%</output></label></div>` +
    `${images.map((im, i) => imageView(im, i, classNames)).join('')}<p class="hint">Heat maps: jet colours of the largest CAM over the image's classes. Label maps: VOC colours, background transparent. "image mIoU": IoU of this picture alone, averaged over the classes in its GT or prediction. Keys ← → step through the images.</p></div>`;
}

const SCRIPT = `(() => {
  const b = document.getElementById('browser'); if (!b) return;
  const s = document.getElementById('opacity'), out = document.getElementById('opacity-value');
  const setOp = () => { b.style.setProperty('--overlay', String(s.value / 100)); out.textContent = s.value + '%'; };
  s.addEventListener('input', setOp); setOp();
  const views = [...b.querySelectorAll('.view')], thumbs = [...b.querySelectorAll('.thumb')];
  let cur = 0;
  const show = (i) => { cur = (i + views.length) % views.length; views.forEach((v, j) => { v.hidden = j !== cur; }); thumbs.forEach((t, j) => t.setAttribute('aria-pressed', String(j === cur))); };
  thumbs.forEach((t, i) => t.addEventListener('click', () => show(i)));
  document.addEventListener('keydown', (e) => { if (e.target === s) return; if (e.key === 'ArrowRight') show(cur + 1); if (e.key === 'ArrowLeft') show(cur - 1); });
})();`;

const CSS = `
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9dce1; --bg:#fff; --panel:#f6f7f9; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--fg); background:var(--bg); }
header, main { max-width:1180px; margin:0 auto; padding:0 20px; }
header { padding-top:22px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h1 { font-size:22px; margin:0 0 6px; } h2 { font-size:18px; margin:26px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); } h3 { font-size:15px; margin:10px 0 6px; }
header p { margin:2px 0; color:var(--muted); } header code { font-size:12px; }
nav { margin:8px 0 0; display:flex; gap:14px; flex-wrap:wrap; } nav a { color:var(--accent); text-decoration:none; font-weight:600; }
table { border-collapse:collapse; margin:6px 0 14px; font-variant-numeric:tabular-nums; }
caption { caption-side:top; text-align:left; color:var(--muted); padding:0 0 6px; max-width:900px; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; }
thead th { border-bottom:2px solid #aab; font-weight:600; } td.num, th.num { text-align:right; }
.plots { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:16px; }
figure.plot { margin:0; padding:10px 12px; background:var(--panel); border:1px solid var(--line); border-radius:6px; }
figure.plot > figcaption { font-weight:600; margin-bottom:4px; }
figure.plot svg { width:100%; height:auto; display:block; }
.sub { margin-top:-4px; }
svg .series { fill:none; stroke-width:2; } svg .grid { stroke:#e3e5e8; } svg .axis, svg .tickmark { stroke:#777; }
svg .guide { stroke-dasharray:3 3; stroke-width:1; opacity:.7; } svg .zero { stroke:#333; stroke-dasharray:4 3; }
figure.plot.narrow { max-width:640px; } svg .tick { font-size:11px; fill:#555; } svg .label { font-size:12px; fill:#333; }
.legend { display:flex; flex-wrap:wrap; gap:4px 16px; font-size:12px; margin-top:4px; } .legend span { display:inline-flex; align-items:center; gap:5px; white-space:nowrap; }
ul.best { margin:6px 0 0; padding-left:18px; font-size:12px; color:#333; }
.key { font-size:12px; color:var(--muted); }
#browser { --overlay:.6; }
.controls { position:sticky; top:0; z-index:2; background:#fffffff0; padding:6px 0; border-bottom:1px solid var(--line); display:flex; flex-wrap:wrap; gap:10px; align-items:center; justify-content:space-between; }
.thumbs { display:flex; flex-wrap:wrap; gap:6px; }
.thumb { border:2px solid transparent; background:var(--panel); border-radius:5px; padding:2px; cursor:pointer; display:flex; flex-direction:column; align-items:center; font-size:10px; color:var(--muted); }
.thumb i { width:56px; display:block; background-size:100% 100%; } .thumb[aria-pressed="true"] { border-color:var(--accent); color:var(--fg); }
.slider { font-weight:600; display:flex; align-items:center; gap:8px; } .slider input { width:200px; } output { font-variant-numeric:tabular-nums; min-width:3em; }
table.grid td, table.grid th { border:none; padding:3px 4px; vertical-align:top; } table.grid thead th { font-size:12px; color:var(--muted); text-align:center; }
table.grid th[scope=row] { font-size:13px; vertical-align:middle; text-align:right; }
figure.tile { margin:0; width:150px; } .stack { position:relative; width:150px; background-color:#000; background-size:100% 100%; border-radius:3px; overflow:hidden; }
.stack img { position:absolute; inset:0; width:100%; height:100%; } .stack img.label { image-rendering:pixelated; }
.stack img.ov { opacity:var(--overlay); }
figure.tile figcaption { font-size:11px; text-align:center; color:var(--muted); } figure.tile figcaption b { color:var(--fg); }
.classkey { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; margin:0 0 6px; } .classkey span { display:inline-flex; align-items:center; gap:5px; } .classkey i { width:12px; height:12px; border-radius:2px; display:inline-block; border:1px solid #0003; }
.hint { font-size:12px; color:var(--muted); max-width:900px; }
.notes li { color:#7a4b00; }
`;

/** The whole page. */
export function renderReportPage(d: ReportData): string {
  const sections: string[] = [];
  const nav: [string, string][] = [];
  const add = (id: string, title: string, body: string) => {
    nav.push([id, title]);
    sections.push(`<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`);
  };
  if (d.summary) add('results', 'Results', table(d.summary, 'summary-table'));
  if (d.stages) add('stages', 'Stages', table(d.stages, 'stage-table'));
  if (d.paired) add('paired', 'Paired differences over seeds', table(d.paired, 'paired-table') + pairedFigure(d.paired, d.variants));
  if (d.training.length) add('training', 'Training: loss and learning rate', `<div class="plots">${d.training.map((g) => trainingFigure(g, d.variants)).join('')}</div>`);
  if (d.sweeps.length) add('threshold', 'Background threshold', `<p class="key">Lines: mIoU of the pseudo-labels at each background threshold t; ● the best t (dashed guide), ◆ the contour F computed at that t.</p><div class="plots">${d.sweeps.map((g) => sweepFigure(g, d.variants)).join('')}</div>`);
  if (d.perClass.length) add('classes', 'Per class', `<div class="plots">${d.perClass.map((g) => perClassFigures(g, d.variants)).join('')}</div>`);
  if (d.images.length) add('images', 'Images', browser(d.images, d.classNames));
  if (d.notes.length) add('notes', 'Notes', `<ul class="notes">${d.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(d.title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(d.title)}</h1>${d.intro.map((l) => `<p>${esc(l)}</p>`).join('')}<p>Run folder <code>${esc(d.runDir)}</code></p>
<nav>${nav.map(([id, t]) => `<a href="#${id}">${esc(t)}</a>`).join('')}</nav></header>
<main>${sections.join('\n')}</main>
<script>${SCRIPT}</script></body></html>
`;
}

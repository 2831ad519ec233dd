/**
 * report.html in a real browser: Debian's chromium driven by puppeteer-core (no browser
 * download). Skips, saying why, when no chromium is found ($HFPL_CHROMIUM, else the usual paths).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReportHtml } from '../../../src/viz/report-html/write-report.js';
import { ROWS, STAGES, writeFixtureRun } from './fixture.js';

// $HFPL_CHROMIUM, when set, is the only candidate (so HFPL_CHROMIUM=none skips the test).
const CANDIDATES = process.env.HFPL_CHROMIUM ? [process.env.HFPL_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const chromium = CANDIDATES.find((p) => existsSync(p));
/** Mean absolute difference of two screenshots' RGB values (0 ... 255), Infinity when sizes differ. */
async function pixelDiff(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((p) => sharp(p).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  if (x.info.width !== y.info.width || x.info.height !== y.info.height) return Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += Math.abs(x.data[i] - y.data[i]);
  return sum / x.data.length;
}

const reason = chromium ? '' : ` (skipped: no chromium at ${CANDIDATES.join(', ')}; apt-get install chromium or set HFPL_CHROMIUM)`;

if (!chromium) console.warn(`report.html browser test${reason}`);

describe.skipIf(!chromium)(`report.html in chromium${reason}`, () => {
  let dir: string, profile: string;
  let browser: Browser, page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hfpl-report-browser-'));
    profile = mkdtempSync(join(tmpdir(), 'hfpl-chromium-profile-'));
    await writeFixtureRun(dir);
    const r = await writeReportHtml(dir);
    browser = await puppeteer.launch({
      executablePath: chromium, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('request', (q) => { if (!/^(data|file):/.test(q.url())) requests.push(q.url()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(r.path).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads without script errors and fetches nothing', () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('every plot has drawn: non-empty series paths or bars of positive height, with a visible size', async () => {
    const plots = await page.$$eval('figure.plot', (figs) => figs.map((f) => {
      const svg = f.querySelector('svg')!.getBoundingClientRect();
      const paths = [...f.querySelectorAll('path.series')].map((p) => (p as unknown as { getTotalLength(): number }).getTotalLength());
      const bars = [...f.querySelectorAll('rect.bar')].map((b) => (b as unknown as { getBBox(): { height: number } }).getBBox().height);
      return { kind: f.getAttribute('data-plot'), w: svg.width, h: svg.height, paths, bars };
    }));
    expect(plots.map((p) => p.kind)).toEqual(['paired', ...Array(4).fill('training'), ...Array(3).fill('sweep'), ...Array(4).fill('per-class')]);
    for (const p of plots) {
      expect(p.w).toBeGreaterThan(200);
      expect(p.h).toBeGreaterThan(80);
      if (p.kind === 'per-class') expect(p.bars.length).toBeGreaterThan(0);
      else expect(p.paths.length).toBeGreaterThan(0);
      for (const len of [...p.paths, ...p.bars]) expect(len).toBeGreaterThan(0);
    }
    // loss + lr line per training run: pre-training 1, CAM 4 (2 variants x 2 seeds), AffinityNet 2, segmentation 2
    expect(plots.slice(1, 5).map((p) => p.paths.length)).toEqual([2, 8, 4, 4]);
    expect(plots[0].paths).toHaveLength(2); // mIoU and contour F intervals of +ISL +FSL
  });

  it('the numbers shown equal results.json and the stage eval files', async () => {
    const shown = Object.fromEntries(await page.$$eval('[data-key]', (els) => els.map((e) => [e.getAttribute('data-key')!, e.textContent!])));
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { rows: typeof ROWS };
    for (const [variant, label] of [['baseline', 'baseline'], ['both', '+ISL +FSL']]) {
      const rs = res.rows.filter((r) => r.variant === variant);
      const mean = (f: (r: (typeof ROWS)[number]) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
      const sd = (f: (r: (typeof ROWS)[number]) => number) => Math.sqrt(rs.reduce((a, r) => a + (f(r) - mean(f)) ** 2, 0) / (rs.length - 1));
      expect(shown[`summary:${label}:miou`]).toBe(`${(100 * mean((r) => r.miou)).toFixed(1)} ± ${(100 * sd((r) => r.miou)).toFixed(1)}`);
      expect(shown[`summary:${label}:contourF`]).toBe(`${(100 * mean((r) => r.contourF)).toFixed(1)} ± ${(100 * sd((r) => r.contourF)).toFixed(1)}`);
      expect(shown[`summary:${label}:mAP`]).toBe(`${(100 * mean((r) => r.mAP)).toFixed(1)} ± ${(100 * sd((r) => r.mAP)).toFixed(1)}`);
    }
    expect(shown['summary:baseline:miou']).toBe('51.0 ± 1.4');
    for (const [label, st] of Object.entries(STAGES)) {
      expect(shown[`stage:random walk:${label}:miou`]).toBe((100 * st['infer-aff'][0]).toFixed(1));
      expect(shown[`stage:final segmentation:${label}:contourF`]).toBe((100 * st['infer-seg'][1]).toFixed(1));
    }
    // paired: d = [0.05, 0.08], mean 6.5 points, 95% t interval 6.5 -/+ 19.06
    expect(shown['paired:+ISL +FSL:miou']).toBe('+6.5');
    expect(shown['paired:+ISL +FSL:miou:ci']).toBe('[-12.6, 25.6]');
    expect(shown['sweep:CAM pseudo-labels on val: mIoU against the background threshold t:baseline s1:t']).toBe('0.25');
    const ious = await page.$$eval('.view:not([hidden]) figcaption[data-iou] b', (els) => els.map((e) => e.textContent));
    expect(ious).toEqual(['100.0%', '100.0%', '77.5%', '77.5%']); // baseline CAM, final seg; +ISL +FSL CAM, final seg
  });

  it('the opacity control changes the picture (0 shows the bare image), and the thumbnails switch images', async () => {
    const shot = async () => {
      const el = (await page.$$('.view:not([hidden]) .stack'))[2]; // baseline CAM heat map
      return Buffer.from(await el!.screenshot());
    };
    const base = Buffer.from(await (await page.$$('.view:not([hidden]) .stack'))[0]!.screenshot());
    const at60 = await shot();
    const setOpacity = (v: number) => page.$eval('#opacity', (s, v) => { (s as unknown as { value: string }).value = String(v); s.dispatchEvent(new Event('input')); }, v);
    await setOpacity(0);
    const at0 = await shot();
    await setOpacity(100);
    const at100 = await shot();
    expect(await page.$eval('#opacity-value', (e) => e.textContent)).toBe('100%');
    // the heat map (mostly dark blue over a light image) moves the pixels by tens of levels
    expect(await pixelDiff(at60, at0)).toBeGreaterThan(20);
    expect(await pixelDiff(at100, at60)).toBeGreaterThan(10);
    expect(await pixelDiff(at0, base)).toBeLessThan(1); // opacity 0: the image tile itself
    await setOpacity(60);
    const thumbs = await page.$$('.thumb');
    expect(thumbs).toHaveLength(3);
    await thumbs[2].click();
    expect(await page.$eval('.view:not([hidden])', (e) => e.getAttribute('data-id'))).toBe('train_0');
    expect(await page.$$eval('.view:not([hidden]) thead th', (els) => els.map((e) => e.textContent))).toEqual(['', 'image', 'ground truth', 'CAM heat map', 'CAM pseudo-label', '+CRF', 'random walk']);
  });

  it('saves a full-page screenshot under the run folder', async () => {
    await page.click('.thumb');
    const path = join(dir, 'report-screenshot.png');
    await page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(20_000);
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { resolveSynthParams } from '../../src/data/synth/params.js';
import { renderSynthSample } from '../../src/data/synth/render.js';

const tmp = mkdtempSync(join(tmpdir(), 'hfpl-synth-v1-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** sha256 over the sorted relative paths and bytes of every file under `dir`. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const p of walk(dir).sort()) {
    h.update(p.slice(dir.length + 1) + '\0');
    h.update(readFileSync(p));
  }
  return h.digest('hex');
}

// Recorded before benchmark v2 was added (commit 5341abf): v1 stays byte-identical.
describe('benchmark v1 is unchanged', () => {
  it('renders the same pixels and masks (default parameters, 40 samples)', () => {
    const h = createHash('sha256');
    const p = resolveSynthParams({ seed: 3 });
    for (let i = 0; i < 40; i++) {
      const s = renderSynthSample(p, i % 2 ? 'val' : 'train', i);
      h.update(s.image.data);
      h.update(s.mask.data);
      h.update(JSON.stringify(s.labels));
    }
    expect(h.digest('hex')).toBe('15d3433de243f3d882ba388b40eb58695457c04f1c7214a123b49b48bda23441');
  });

  it('writes the same files (hfpl synth default bench)', async () => {
    const out = join(tmp, 'v1');
    await generateSynthDataset({ out, train: 6, val: 3, width: 96, height: 80, classes: 4, seed: 11 });
    expect(treeHash(out)).toBe('7a9729fd85dc144abbbe551d090e75cd5873d88004def07431d651ddfccc3809');
  });
});

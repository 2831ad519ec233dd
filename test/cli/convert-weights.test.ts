/** `hfpl convert-weights` (format side): reference checkpoints -> safetensors / .pth, coverage lines, bad input. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './run-cli.js';
import { readWeights } from '../../src/weights/index.js';
import { sharedPath } from '../shared-path.js';

const REF = sharedPath('fixtures/reference-nets');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-cli-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCliCaptured;

function sameTensors(a: Awaited<ReturnType<typeof readWeights>>['tensors'], b: typeof a): boolean {
  if (a.size !== b.size) return false;
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u || u.dtype !== t.dtype || u.shape.join() !== t.shape.join()) return false;
    if (Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength)) !== 0) return false;
  }
  return true;
}

describe('hfpl convert-weights', () => {
  it('MXNet .params -> <dir>/<stem>.safetensors under the reference names, linear1000 dropped and reported', async () => {
    const out = join(tmp, 'imagenet');
    const r = await run(['convert-weights', '--in', `${REF}/resnet38d-v1.params`, '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const file = join(out, 'resnet38d-v1.safetensors');
    expect(r.out).toEqual([
      `convert-weights: ${REF}/resnet38d-v1.params (mxnet) -> ${file}: 191 tensors, 416316 numbers`,
      '  dropped as the reference does: arg:linear1000_weight, arg:linear1000_bias',
    ]);
    const w = await readWeights(file);
    expect(w.meta).toMatchObject({ format: 'pt', source: 'resnet38d-v1.params' });
    const seam = await readWeights(`${REF}/seam.safetensors`);
    const backbone = new Map([...seam.tensors].filter(([k]) => w.tensors.has(k)));
    expect(backbone.size).toBe(191);
    expect(sameTensors(w.tensors, backbone)).toBe(true);
  });

  it('a {state_dict: {module.*}} checkpoint -> .pth, unwrapped, identical to seam.pth', async () => {
    const out = join(tmp, 'seam-plain.pth');
    const r = await run(['convert-weights', '--in', `${REF}/seam-wrapped.pth`, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([`convert-weights: ${REF}/seam-wrapped.pth (pth-zip) -> ${out}: 232 tensors, 422549 numbers`]);
    expect(sameTensors((await readWeights(out)).tensors, (await readWeights(`${REF}/seam.pth`)).tensors)).toBe(true);
  });

  it('a truncated input: one line, exit 1, nothing written', async () => {
    const bad = join(tmp, 'cut.pth');
    const bytes = readFileSync(`${REF}/seam-legacy.pth`);
    writeFileSync(bad, bytes.subarray(0, bytes.length >> 1));
    const out = join(tmp, 'never');
    const r = await run(['convert-weights', '--in', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^hfpl: error \\[E_DATA\\]: ${bad}: truncated`));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('option errors: bad --out extension, --allow-missing without --arch, unknown --arch', async () => {
    const a = await run(['convert-weights', '--in', `${REF}/seam.pth`, '--out', join(tmp, 'x.bin')]);
    expect([a.code, a.err]).toEqual([1, [`hfpl: error [E_CONFIG]: --out ${join(tmp, 'x.bin')}: expected a .safetensors or .pth file, or a folder`]]);
    const b = await run(['convert-weights', '--in', `${REF}/seam.pth`, '--out', tmp, '--allow-missing']);
    expect([b.code, b.err]).toEqual([1, ['hfpl: error [E_CONFIG]: --allow-missing only applies with --arch']]);
    const c = await run(['convert-weights', '--in', `${REF}/seam.pth`, '--out', tmp, '--arch', 'vgg-nope']);
    expect(c.code).toBe(1);
    expect(c.err[0]).toMatch(/^hfpl: error \[E_CONFIG\]: --arch: unknown architecture 'vgg-nope'/);
  });
});

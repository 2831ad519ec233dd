import { cpSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { cocoSemanticMask, readCocoInstances } from '../../src/data/coco.js';
import { readLabelPng } from '../../src/data/label-png.js';
import { loadSample } from '../../src/data/sample.js';
import { readVocSplit } from '../../src/data/voc.js';
import { sharedPath } from '../shared-path.js';

const COCO = sharedPath('data/coco-sample/');
const tmp = mkdtempSync(join(tmpdir(), 'hfpl-cli-coco-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; err: string[]; out: string[]; stderr: string[] }> {
  const err: string[] = [], out: string[] = [], stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation((s: string) => void stderr.push(s));
  const code = await runCli(args, (l) => err.push(l));
  vi.restoreAllMocks();
  return { code, err, out, stderr };
}

/** A writable copy of the val2017 part of the sample, images in `<root>/val2017/` when `flat`. */
function valCopy(name: string, flat = false): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'annotations'), { recursive: true });
  writeFileSync(join(root, 'annotations', 'instances_val2017.json'), readFileSync(join(COCO, 'annotations', 'instances_val2017.json')));
  const images = flat ? join(root, 'val2017') : join(root, 'images', 'val2017');
  cpSync(join(COCO, 'images', 'val2017'), images, { recursive: true });
  chmodSync(images, 0o755);
  for (const f of readdirSync(images)) chmodSync(join(images, f), 0o644);
  return root;
}

describe('hfpl coco-masks', () => {
  const out = join(tmp, 'voc-layout');

  it('materialises val2017 as a VOC layout the VOC reader reads back exactly', async () => {
    const r = await run(['coco-masks', '--coco', COCO, '--split', 'val2017', '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`coco-masks: wrote 6 images of val2017 to ${out} (80 classes)`);
    expect(r.out[1]).toMatch(/^coco-masks: polygon pixels vs area: .* of 135; .* RLE pixels == area: 1\/1$/);

    const inst = readCocoInstances(join(COCO, 'annotations', 'instances_val2017.json'));
    const ids = inst.images.map((im) => im.fileName.replace('.jpg', ''));
    expect(readFileSync(join(out, 'ImageSets', 'Segmentation', 'val2017.txt'), 'utf8')).toBe(ids.map((id) => id + '\n').join(''));
    const split = readVocSplit(out, 'val2017');
    expect(split.classNames).toEqual(inst.classNames);
    expect(split.samples.map((s) => s.id)).toEqual(ids);
    for (const [i, s] of split.samples.entries()) {
      expect(readFileSync(s.imagePath).equals(readFileSync(join(COCO, 'images', 'val2017', inst.images[i].fileName)))).toBe(true);
      const mask = readLabelPng(s.maskPath!);
      expect(Buffer.from(mask.data).equals(Buffer.from(cocoSemanticMask(inst, inst.images[i]).data))).toBe(true);
    }
    const s516 = split.samples.find((s) => s.id === '000000516168')!;
    expect(s516.labels).toEqual([1, 29, 40, 41, 57, 61, 74]);
    const loaded = await loadSample(s516, { numClasses: 81 });
    expect([loaded.image.width, loaded.mask!.height]).toEqual([640, 480]);
    expect(readdirSync(join(out, 'SegmentationClass')).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // `hfpl labels` on the materialised layout takes its classes from labels.json and agrees.
    const check = join(tmp, 'labels-check.json');
    expect((await run(['labels', '--voc', out, '--split', 'val2017', '--source', 'mask', '--out', check])).code).toBe(0);
    const a = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8'));
    expect(JSON.parse(readFileSync(check, 'utf8'))).toEqual(a);
  });

  it('adds a second split to the same labels.json', async () => {
    const r = await run(['coco-masks', '--coco', COCO, '--split', 'train2017', '--out', out, '--link', '--no-verify']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`coco-masks: wrote 32 images of train2017 to ${out} (80 classes)`);
    const labels = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')) as { classes: string[]; labels: Record<string, number[]> };
    expect(Object.keys(labels.labels).length).toBe(38);
    expect(labels.classes[1]).toBe('person');
    expect(readVocSplit(out, 'train2017').samples.length).toBe(32);
  });

  it('reads images from <root>/<split>/ too', async () => {
    const root = valCopy('flat', true);
    const r = await run(['coco-masks', '--coco', root, '--split', 'val2017', '--out', join(root, 'out')]);
    expect(r.code).toBe(0);
    expect(readdirSync(join(root, 'out', 'SegmentationClass')).length).toBe(6);
  });

  const img = (root: string, id: string) => join(root, 'images', 'val2017', `${id}.jpg`);
  const cases: [string, (root: string) => string][] = [
    ['a truncated JPEG', (root) => {
      const p = img(root, '000000444010');
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, b.length >> 1));
      return `[E_IMAGE]: ${p}: corrupt or unreadable image (VipsJpeg: premature end of JPEG image)`;
    }],
    ['an image whose size differs from the JSON', (root) => {
      const p = img(root, '000000444010');
      writeFileSync(p, readFileSync(sharedPath('data/voc-sample/JPEGImages/2007_000032.jpg')));
      return `[E_IMAGE]: ${p}: image is 500x281 but ${join(root, 'annotations', 'instances_val2017.json')} says 640x480`;
    }],
    ['an image with no file', (root) => {
      renameSync(img(root, '000000444010'), join(root, 'moved.jpg'));
      return `[E_DATA]: ${join(root, 'annotations', 'instances_val2017.json')}: image 444010 (000000444010.jpg) has no file ${img(root, '000000444010')}`;
    }],
    ['a malformed annotation', (root) => {
      const p = join(root, 'annotations', 'instances_val2017.json');
      const j = JSON.parse(readFileSync(p, 'utf8'));
      const a = j.annotations.find((x: { image_id: number }) => x.image_id === 444010);
      a.segmentation = { size: [480, 640], counts: [5, 5] };
      writeFileSync(p, JSON.stringify(j));
      return `[E_DATA]: ${p}: annotation ${a.id}: RLE counts add up to 10 pixels, expected 480x640 = 307200`;
    }],
  ];
  for (const [what, spoil] of cases) {
    it(`stops at ${what} with one line and exit 1; --skip-bad leaves the image out`, async () => {
      const root = valCopy(what.replace(/\W+/g, '-'));
      const expected = spoil(root);
      const dest = join(root, 'out');
      const r = await run(['coco-masks', '--coco', root, '--split', 'val2017', '--out', dest]);
      expect(r.code).toBe(1);
      expect(r.err).toEqual([`hfpl: error ${expected}`]);
      expect(existsSync(join(dest, 'labels.json'))).toBe(false);
      expect(existsSync(join(dest, 'ImageSets'))).toBe(false);
      const s = await run(['coco-masks', '--coco', root, '--split', 'val2017', '--out', dest, '--skip-bad']);
      expect(s.code).toBe(0);
      expect(s.out[0]).toBe(`coco-masks: wrote 5 images of val2017 to ${dest} (80 classes)`);
      expect(s.stderr).toEqual(['skipped 1 bad sample:', `  ${expected.replace(']: ', '] ')}`]);
      expect(readFileSync(join(dest, 'ImageSets', 'Segmentation', 'val2017.txt'), 'utf8')).not.toContain('000000444010');
      expect(Object.keys(JSON.parse(readFileSync(join(dest, 'labels.json'), 'utf8')).labels)).not.toContain('000000444010');
    });
  }

  it('stops at an unreadable annotation file', async () => {
    const root = valCopy('badjson');
    const p = join(root, 'annotations', 'instances_val2017.json');
    writeFileSync(p, readFileSync(p, 'utf8').slice(0, 1000));
    const r = await run(['coco-masks', '--coco', root, '--split', 'val2017', '--out', join(root, 'out'), '--skip-bad']);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^hfpl: error \\[E_DATA\\]: ${p}: not valid JSON \\(`));
    const m = await run(['coco-masks', '--coco', root, '--split', 'test2017', '--out', join(root, 'out')]);
    expect(m.err).toEqual([`hfpl: error [E_IO]: ${join(root, 'annotations', 'instances_test2017.json')}: annotation file not found or unreadable`]);
  });
});

/**
 * Bad weight files fail with one line (HfplError, code, the file named): truncated copies of
 * every fixture format, unknown bytes, a pickle naming a global outside the allow list.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { HfplError } from '../../src/errors.js';
import { readWeights } from '../../src/weights/index.js';
import { PickleWriter } from '../../src/weights/pickle-write.js';
import { writeTorchZip } from '../../src/weights/torch-write.js';
import { sharedPath } from '../shared-path.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-badw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): Buffer => readFileSync(sharedPath(`fixtures/reference-nets/${name}`));

async function failure(path: string): Promise<HfplError> {
  const e = await readWeights(path).then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HfplError);
  const h = e as HfplError;
  expect(h.message.startsWith(`${path}: `)).toBe(true);
  expect(h.message).not.toContain('\n');
  return h;
}

describe('truncated files', () => {
  test.each([
    ['seam.pth', 0.5, 'truncated or corrupt zip: no end-of-central-directory record (file cut short?)'],
    ['seam-legacy.pth', 0.5, 'truncated'],
    ['seam-legacy.pth', 0.01, 'truncated or corrupt: a pickle ends before its STOP opcode'],
    ['seam.safetensors', 0.9, 'truncated or corrupt safetensors file: tensor '],
    ['seam.safetensors', 0.001, 'truncated or corrupt safetensors file: header length'],
    ['resnet38d.params', 0.7, 'truncated or corrupt'],
    ['resnet38d-v1.params', 0.999, 'truncated or corrupt MXNet .params file'],
  ])('%s cut to %f of its length', async (name, frac, message) => {
    const bytes = fixture(name);
    const path = join(dir, `cut-${frac}-${name}`);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * frac)));
    const e = await failure(path);
    expect(e.code).toBe('E_DATA');
    expect(e.message).toContain(message);
  });

  test('a legacy checkpoint cut inside its storages names the storage and the sizes', async () => {
    const bytes = fixture('seam-legacy.pth');
    const path = join(dir, 'cut-storage.pth');
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    expect((await failure(path)).message).toMatch(/: truncated: storage \d+ ends at byte \d+ but the file has \d+$/);
  });
});

test('unknown format, empty file, missing file', async () => {
  const rnd = join(dir, 'random.bin');
  writeFileSync(rnd, Buffer.from('GIF89a not weights at all'));
  expect((await failure(rnd)).message).toBe(`${rnd}: unknown weights format (expected PyTorch .pth/.pt (zip or legacy), .safetensors, MXNet .params, TF.js model.json)`);
  const empty = join(dir, 'empty.pth');
  writeFileSync(empty, '');
  expect((await failure(empty)).code).toBe('E_DATA');
  const missing = join(dir, 'nope.pth');
  const e = await failure(missing);
  expect([e.code, e.message]).toEqual(['E_IO', `${missing}: weights file not found`]);
});

/** A zip checkpoint whose data.pkl is `pkl`. */
async function zipWithPickle(path: string, pkl: Uint8Array): Promise<void> {
  await writeTorchZip(path, new Map([['w', { shape: [1], data: new Float32Array(1) }]]));
  const z = readFileSync(path);
  // Replace data.pkl (the first record; it ends with SETITEMS STOP) in place, keeping its length.
  const start = z.indexOf(Buffer.from([0x80, 0x02]));
  const oldLen = z.subarray(start).indexOf(Buffer.from([0x75, 0x2e])) + 2;
  if (pkl.length > oldLen) throw new Error('test pickle too long');
  const padded = Buffer.alloc(oldLen, 0x2e); // bytes after STOP are never read
  padded.set(pkl);
  z.set(padded, start);
  writeFileSync(path, z);
}

describe('the safe unpickler', () => {
  test('a pickle naming a global outside the allow list is refused with its name; nothing runs', async () => {
    const path = join(dir, 'foreign.pth');
    const pkl = new PickleWriter().proto().global('os', 'system').str('touch /tmp/hfpl-pwned').byte(0x85).reduce().stop().bytes();
    await zipWithPickle(path, pkl);
    const e = await failure(path);
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe(`${path}: refused: the pickle references the global os.system, which is not on hfpl's allow list (nothing was executed)`);
  });

  test('an opcode torch.save never writes is refused', async () => {
    const path = join(dir, 'inst.pth');
    // INST 'builtins\neval\n' (protocol 0 instance creation)
    const pkl = new PickleWriter().proto().mark().byte(0x69, ...Buffer.from('builtins\neval\n')).stop().bytes();
    await zipWithPickle(path, pkl);
    expect((await failure(path)).message).toBe(`${path}: corrupt pickle at byte 4: opcode 0x69 is not one torch.save writes`);
  });

  test('an allowed global called with the wrong arguments is a corrupt file, not a crash', async () => {
    const path = join(dir, 'badcall.pth');
    const pkl = new PickleWriter().proto().global('torch._utils', '_rebuild_tensor_v2').mark().int(1).int(2).tuple().reduce().stop().bytes();
    await zipWithPickle(path, pkl);
    expect((await failure(path)).message).toContain('corrupt pickle at byte');
  });
});

test('a corrupt shape fails before any allocation: an MXNet array claiming 2^40 elements', async () => {
  const path = join(dir, 'huge.params');
  const b = Buffer.alloc(24 + 4 + 4 + 4 + 8 + 12 + 8);
  b.writeBigUInt64LE(0x112n, 0);
  b.writeBigUInt64LE(1n, 16);
  b.writeUInt32LE(0xf993fac9, 24);
  b.writeInt32LE(0, 28);
  b.writeInt32LE(1, 32);
  b.writeBigInt64LE(2n ** 40n, 36);
  b.writeInt32LE(1, 44);
  writeFileSync(path, b);
  expect((await failure(path)).message).toBe(`${path}: truncated or corrupt: array 0 (shape [1099511627776]) needs bytes 56..4398046511160 but there are ${b.length}`);
});

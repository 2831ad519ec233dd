/**
 * Checkpoint wrappers: a training checkpoint `{'model': {'module.*': ...}, 'optimizer': ..., 'epoch': 5}`
 * unwraps to the model's state dict; a plain state dict whose names merely start with `model.` is
 * left alone (nesting, not dotted names, decides).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readStateDict, readWeights, stripPrefix } from '../../src/weights/index.js';
import { PickleWriter } from '../../src/weights/pickle-write.js';
import { writeTorchArchive, writeTorchZip } from '../../src/weights/torch-write.js';

const dir = mkdtempSync(join(tmpdir(), 'hfpl-test-wrap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Emits `_rebuild_tensor_v2(storage key, 0, shape, C strides)` of a float32 storage of n elements. */
function tensor(w: PickleWriter, key: number, shape: number[], n: number): void {
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark().str('storage').global('torch', 'FloatStorage').str(String(key)).str('cpu').int(n).tuple().binPersId();
  w.int(0).intTuple(shape).intTuple(shape.length === 1 ? [1] : []).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
  w.tuple().reduce();
}
const SETITEM = 0x73;

test("{'model': {'module.*'}, 'optimizer': {...}, 'epoch': 5} unwraps to the model's names", async () => {
  const w = new PickleWriter().proto().emptyDict();
  w.str('epoch').int(5).byte(SETITEM);
  w.str('model').global('collections', 'OrderedDict').emptyTuple().reduce();
  w.str('module.conv.weight');
  tensor(w, 0, [2], 2);
  w.byte(SETITEM).str('module.bn.running_mean');
  tensor(w, 1, [1], 1);
  w.byte(SETITEM).byte(SETITEM); // model -> top
  w.str('optimizer').emptyDict().str('state').emptyDict().int(0).emptyDict().str('momentum_buffer');
  tensor(w, 0, [2], 2);
  w.byte(SETITEM).byte(SETITEM).byte(SETITEM).byte(SETITEM).stop(); // momentum_buffer, 0, state, optimizer
  const path = join(dir, 'train.pth');
  await writeTorchArchive(path, w.bytes(), [new Uint8Array(Float32Array.from([1, 2]).buffer), new Uint8Array(Float32Array.from([3]).buffer)]);

  const f = await readWeights(path);
  expect([...f.tensors.keys()]).toEqual(['model.module.conv.weight', 'model.module.bn.running_mean', 'optimizer.state.0.momentum_buffer']);
  expect(f.containers).toEqual(['model', 'optimizer']);
  expect(f.meta).toEqual({ epoch: 5 });
  const sd = await readStateDict(path);
  expect([...sd.tensors.keys()]).toEqual(['conv.weight', 'bn.running_mean']);
  expect(Array.from(sd.tensors.get('conv.weight')!.data as Float32Array)).toEqual([1, 2]);
  expect(Array.from(sd.tensors.get('bn.running_mean')!.data as Float32Array)).toEqual([3]);
  // Without the nesting information only state_dict/model_state_dict prefixes are unwrapped.
  expect([...stripPrefix(f.tensors).keys()]).toEqual([...f.tensors.keys()]);
});

test("a plain state dict whose names start with 'model.' keeps them", async () => {
  const path = join(dir, 'plain.pth');
  await writeTorchZip(path, new Map([['model.conv.weight', { shape: [1], data: Float32Array.from([4]) }], ['model.fc.bias', { shape: [1], data: Float32Array.from([5]) }]]));
  const f = await readWeights(path);
  expect(f.containers).toEqual([]);
  expect([...(await readStateDict(path)).tensors.keys()]).toEqual(['model.conv.weight', 'model.fc.bias']);
});

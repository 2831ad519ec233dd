/**
 * The safe unpickler on pickles CPython wrote (hex below, from `pickle.dumps(obj, protocol=p)`
 * of the object in the comment; copied once so the test needs no Python), protocols 2 and 4.
 */
import { describe, expect, test } from 'vitest';
import { PickleGlobal, unpickle, type GlobalResolver } from '../../src/weights/pickle.js';
import { resolveTorchGlobal } from '../../src/weights/torch-globals.js';

// obj = {'name': 'conv', 'n': -300000000000, 'big': 2**70, 'x': 1.5, 'none': None, 'flags': (True, False),
//        'pair': (1, 2), 'triple': ('a', 'b', 'c'), 'l': [1, 2, 3], 'b': b'\x00\xff',
//        'od': OrderedDict([('k', 7)]), 'neg': -1, 'i2': 40000, 'ustr': 'üüü', 'shared': (lst, lst)} with lst = [9]
const P2 =
  '80027d71002858040000006e616d6571015804000000636f6e76710258010000006e71038a0500489b26ba580300000062696771048a090000000000000000405801000000787105473ff800000000000058040000006e6f6e6571064e5805000000666c6167737107888986710858040000007061697271094b014b0286710a5806000000747269706c65710b580100000061710c580100000062710d580100000063710e87710f58010000006c71105d7111284b014b024b0365680d635f636f646563730a656e636f64650a7112580300000000c3bf711358060000006c6174696e31711486711552711658020000006f64711763636f6c6c656374696f6e730a4f726465726564446963740a71182952711958010000006b711a4b077358030000006e6567711b4affffffff58020000006932711c4d409c580400000075737472711d5806000000c3bcc3bcc3bc711e5806000000736861726564711f5d71204b09616820867121752e';
const P4 =
  '800495eb000000000000007d94288c046e616d65948c04636f6e76948c016e948a0500489b26ba8c03626967948a090000000000000000408c017894473ff80000000000008c046e6f6e65944e8c05666c61677394888986948c0470616972944b014b0286948c06747269706c65948c0161948c0162948c01639487948c016c945d94284b014b024b0365680d430200ff948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b07738c036e6567944affffffff8c026932944d409c8c0475737472948c06c3bcc3bcc3bc948c06736861726564945d944b0961681e8694752e';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const opts = { file: 'obj.pkl', resolveGlobal: resolveTorchGlobal };

describe.each([
  ['protocol 2', P2],
  ['protocol 4', P4],
])('%s', (_, hex) => {
  test('decodes every value; the memo shares objects; ends after STOP', () => {
    const b = bytes(hex);
    const { value, end } = unpickle(b, 0, opts);
    expect(end).toBe(b.length);
    const m = value as Map<string, unknown>;
    expect(m).toBeInstanceOf(Map);
    expect([...m.keys()]).toEqual(['name', 'n', 'big', 'x', 'none', 'flags', 'pair', 'triple', 'l', 'b', 'od', 'neg', 'i2', 'ustr', 'shared']);
    expect(m.get('name')).toBe('conv');
    expect(m.get('n')).toBe(-300000000000);
    expect(m.get('big')).toBe(2n ** 70n);
    expect(m.get('x')).toBe(1.5);
    expect(m.get('none')).toBeNull();
    expect(m.get('flags')).toEqual([true, false]);
    expect(m.get('pair')).toEqual([1, 2]);
    expect(m.get('triple')).toEqual(['a', 'b', 'c']);
    expect(m.get('l')).toEqual([1, 2, 3]);
    expect(m.get('b')).toEqual(Uint8Array.from([0, 255]));
    expect(m.get('od')).toEqual(new Map([['k', 7]]));
    expect(m.get('neg')).toBe(-1);
    expect(m.get('i2')).toBe(40000);
    expect(m.get('ustr')).toBe('üüü');
    const [a, c] = m.get('shared') as unknown[][];
    expect(a).toEqual([9]);
    expect(a).toBe(c);
  });

  test('every prefix of the pickle is "ends before its STOP opcode", never a crash', () => {
    const b = bytes(hex);
    for (let n = 0; n < b.length; n += 7) {
      expect(() => unpickle(b.subarray(0, n), 0, opts)).toThrow('obj.pkl: truncated or corrupt: a pickle ends before its STOP opcode');
    }
  });
});

test('the allow list is consulted for every global: with an empty one the OrderedDict is refused', () => {
  const none: GlobalResolver = () => undefined;
  expect(() => unpickle(bytes(P4), 0, { file: 'obj.pkl', resolveGlobal: none })).toThrow(
    "obj.pkl: refused: the pickle references the global collections.OrderedDict, which is not on hfpl's allow list (nothing was executed)",
  );
  // A resolver that admits a global without implementation: calling it is refused as corrupt.
  const inert: GlobalResolver = (m, n) => new PickleGlobal(m, n);
  expect(() => unpickle(bytes(P4), 0, { file: 'obj.pkl', resolveGlobal: inert })).toThrow(/corrupt pickle at byte \d+: calls collections\.OrderedDict, which hfpl does not construct/);
});

test('refusals of a whole pickled model or a TorchScript archive say what to do instead', () => {
  const pkl = (module: string, name: string): Uint8Array => Uint8Array.from([0x80, 0x02, 0x63, ...Buffer.from(`${module}\n${name}\n`), 0x29, 0x52, 0x2e]);
  expect(() => unpickle(pkl('network.resnet38_SEAM', 'Net'), 0, opts)).toThrow(
    "obj.pkl: refused: the pickle references the global network.resnet38_SEAM.Net, which is not on hfpl's allow list (nothing was executed); the file seems to pickle a whole model object: save model.state_dict() instead",
  );
  expect(() => unpickle(pkl('__torch__.network.resnet38d', 'Net'), 0, opts)).toThrow('; this is a TorchScript archive: load it in PyTorch and save model.state_dict()');
});

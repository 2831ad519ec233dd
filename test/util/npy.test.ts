import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../../src/util/npy.js';

describe('npy', () => {
  it('writes the exact header numpy.save writes for a float32 (2, 3) array and round-trips', () => {
    const a = new Float32Array([1, 2, 3, 4.5, -5, 6]);
    const bytes = encodeNpy(a, [2, 3]);
    // numpy 1.x: magic, v1.0, header padded so that data starts at a multiple of 64.
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
    const hlen = bytes[8] | (bytes[9] << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = String.fromCharCode(...bytes.subarray(10, 10 + hlen));
    expect(header).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + ' '.repeat(hlen - 60) + '\n');
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual([1, 2, 3, 4.5, -5, 6]);
  });

  it('round-trips uint8 1-D and rejects a truncated file', () => {
    const b = encodeNpy(new Uint8Array([0, 255, 7]), [3]);
    expect(String.fromCharCode(...b.subarray(10, 70))).toContain("'shape': (3,)");
    expect(Array.from(decodeNpy(b).data)).toEqual([0, 255, 7]);
    expect(() => decodeNpy(b.subarray(0, b.length - 1), 'x.npy')).toThrow(/x\.npy: truncated/);
  });

  it('decodes from a Node Buffer (as fs.readFile returns) without the header bytes', () => {
    const b = Buffer.from(encodeNpy(new Float32Array([0.25, -1]), [2]));
    expect(Array.from(decodeNpy(b).data)).toEqual([0.25, -1]);
  });
});

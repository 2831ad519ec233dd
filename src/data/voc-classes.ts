/** PASCAL VOC class names (METHOD 5) and the standard VOC colour map for palette PNGs. */
export const VOC_CLASSES: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
]);

/** Index of the void / ignore label in VOC masks. */
export const VOID_LABEL = 255;

/**
 * The VOC colour map: 256 RGB triples, flattened (length 768). Entry i is built from the bits
 * of i (the devkit's `bitget` construction); 255 (void) is (224, 224, 192).
 */
export function vocColorMap(): Uint8Array {
  const cmap = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let r = 0, g = 0, b = 0, c = i;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    cmap[i * 3] = r;
    cmap[i * 3 + 1] = g;
    cmap[i * 3 + 2] = b;
  }
  return cmap;
}

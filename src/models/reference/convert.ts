/**
 * `hfpl convert-weights --arch`: a checkpoint of a reference architecture (any format
 * `src/weights` reads) checked against the architecture and written as hfpl TF.js weights
 * (`model.json` + `weights.bin`, hfpl names and NHWC/HWIO layout, `hfpl.arch` recorded) and as
 * `model.safetensors` (reference names, PyTorch layout, loadable with `load_state_dict`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readStateDict, writeSafetensors, type StateDict } from '../../weights/index.js';
import { saveWeights } from '../weights-io.js';
import { describeRefReport, loadReferenceFromStateDict, type ReferenceArch } from './architectures.js';
import { referenceStateDict, type RefLoadReport } from './load-reference.js';

export interface ConvertReferenceOptions {
  input: string;
  arch: ReferenceArch;
  out: string;
  /** Tolerate parameters the file lacks (backbone-only files); they are written as initialised (zeros). */
  allowMissing?: boolean;
}

export interface ConvertReferenceResult {
  format: string;
  report: RefLoadReport;
  /** Numbers written (parameters and BN statistics). */
  numbers: number;
  files: string[];
}

/**
 * Converts a reference checkpoint; nothing is written when the file does not fit the
 * architecture (the load fails first). Files are written atomically.
 *
 * @example
 * await convertReferenceWeights({ input: 'resnet38_SEAM.pth', arch: 'seam-resnet38', out: 'weights/seam' });
 */
export async function convertReferenceWeights(opts: ConvertReferenceOptions, stateDict?: StateDict): Promise<ConvertReferenceResult> {
  const sd = stateDict ?? (await readStateDict(opts.input));
  const { net, report, format } = loadReferenceFromStateDict(opts.arch, sd, opts.input, { allowMissing: opts.allowMissing });
  try {
    mkdirSync(opts.out, { recursive: true });
    const named = net.store.namedTensors();
    const meta = { arch: opts.arch, source: opts.input, sourceFormat: format, layout: 'NHWC', missing: report.missing };
    await saveWeights(opts.out, named, meta);
    const ref = referenceStateDict(net.refs);
    await writeSafetensors(join(opts.out, 'model.safetensors'), ref, { arch: opts.arch, source: opts.input, format: 'pt' });
    let numbers = 0;
    for (const t of ref.values()) numbers += t.data.length;
    return { format, report, numbers, files: [join(opts.out, 'model.json'), join(opts.out, 'weights.bin'), join(opts.out, 'model.safetensors')] };
  } finally {
    net.dispose();
  }
}

/** The lines `hfpl convert-weights --arch` prints for a conversion. */
export function describeReferenceConversion(opts: ConvertReferenceOptions, r: ConvertReferenceResult): string[] {
  const rep = r.report;
  const lines = [
    `${opts.input} (${r.format}) -> ${opts.arch}: ${rep.loaded.length} tensors loaded, ${rep.missing.length} missing, ${rep.ignored.length} ignored (num_batches_tracked / classifier), ${r.numbers.toLocaleString('en-US')} numbers`,
  ];
  if (rep.missing.length) lines.push(`missing (left at zero, train them): ${describeRefReport({ ...rep, misShaped: [], unexpected: [] }).replace(/^missing /, '')}`);
  lines.push(`wrote ${r.files.join(', ')}`);
  return lines;
}

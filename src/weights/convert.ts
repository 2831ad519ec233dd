/**
 * `hfpl convert-weights`, format side: any weight file hfpl reads -> safetensors (or a PyTorch
 * zip `.pth`), under the reference's PyTorch names (MXNet `.params` renamed as
 * `convert_mxnet_to_torch` does, `state_dict` / `module.` unwrapped), with a coverage report.
 */
import { basename, extname, join } from 'node:path';
import { HfplError } from '../errors.js';
import { readStateDict, type StateDict } from './index.js';
import { writeSafetensors } from './safetensors.js';
import { writeTorchZip } from './torch-write.js';
import { numel } from './types.js';

/** Options of `convertWeights`. */
export interface ConvertWeightsOptions {
  /** Input weight file (any format `readWeights` reads). */
  input: string;
  /** Output: a `.safetensors` or `.pth` file, or a folder (then `<folder>/<input stem>.safetensors`). */
  out: string;
}

/** What `convertWeights` read and wrote. */
export interface ConvertWeightsReport {
  input: string;
  format: StateDict['format'];
  /** File written. */
  output: string;
  tensors: number;
  numbers: number;
  /** Stored dtypes other than float32/int64 that were converted (float16/bfloat16/float64 -> float32). */
  converted: Record<string, number>;
  /** MXNet names dropped like the reference does (`linear1000*`). */
  dropped: string[];
  /** MXNet names the reference's conversion does not know (not written). */
  unconverted: string[];
}

/** Where the output goes for `out` (a file by extension, else a folder). */
export function resolveOutput(input: string, out: string): string {
  const ext = extname(out).toLowerCase();
  if (ext === '.safetensors' || ext === '.pth' || ext === '.pt') return out;
  if (ext !== '') throw new HfplError('E_CONFIG', `--out ${out}: expected a .safetensors or .pth file, or a folder`);
  return join(out, `${basename(input, extname(input))}.safetensors`);
}

/** Reads `input` as a state dict and writes it to `out`; nothing is written when the input is bad. */
export async function convertStateDict(sd: StateDict, input: string, out: string): Promise<ConvertWeightsReport> {
  const output = resolveOutput(input, out);
  if (sd.tensors.size === 0) throw new HfplError('E_DATA', `${input}: holds no tensors`);
  const converted: Record<string, number> = {};
  let numbers = 0;
  for (const t of sd.tensors.values()) {
    numbers += numel(t.shape);
    if (t.dtype !== 'float32' && t.dtype !== 'int64' && t.dtype !== 'int32') converted[t.dtype] = (converted[t.dtype] ?? 0) + 1;
  }
  const ext = extname(output).toLowerCase();
  if (ext === '.safetensors') await writeSafetensors(output, sd.tensors, { format: 'pt', source: basename(input), converted_by: 'hfpl convert-weights' });
  else await writeTorchZip(output, sd.tensors);
  return { input, format: sd.format, output, tensors: sd.tensors.size, numbers, converted, dropped: sd.dropped, unconverted: sd.unconverted };
}

/** `readStateDict` + `convertStateDict`. */
export async function convertWeights(opts: ConvertWeightsOptions): Promise<ConvertWeightsReport> {
  resolveOutput(opts.input, opts.out);
  return convertStateDict(await readStateDict(opts.input), opts.input, opts.out);
}

/** The report as the lines the CLI prints. */
export function describeConversion(r: ConvertWeightsReport): string[] {
  const lines = [`convert-weights: ${r.input} (${r.format}) -> ${r.output}: ${r.tensors} tensors, ${r.numbers} numbers`];
  const conv = Object.entries(r.converted);
  if (conv.length) lines.push(`  converted to float32: ${conv.map(([d, n]) => `${n} ${d}`).join(', ')}`);
  if (r.dropped.length) lines.push(`  dropped as the reference does: ${r.dropped.join(', ')}`);
  if (r.unconverted.length) lines.push(`  not converted (unknown to the reference's MXNet name rules): ${r.unconverted.join(', ')}`);
  return lines;
}

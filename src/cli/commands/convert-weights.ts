/**
 * `hfpl convert-weights`: a checkpoint of any supported format (PyTorch .pth zip or legacy,
 * safetensors, MXNet .params, TF.js) -> safetensors or PyTorch zip under the reference's names,
 * with a coverage report; with `--arch`, an architecture's TF.js model (ARCH_WRITERS below).
 */
import type { Command } from 'commander';
import { HfplError } from '../../errors.js';
import { convertStateDict, describeConversion, resolveOutput } from '../../weights/convert.js';
import { readStateDict, type StateDict } from '../../weights/index.js';
import { REFERENCE_ARCHS, type ReferenceArch } from '../../models/reference/architectures.js';
import { convertReferenceWeights, describeReferenceConversion } from '../../models/reference/convert.js';

/** What an architecture writer reports (printed line by line). */
export interface ArchConversion {
  lines: string[];
}

/**
 * Architecture hook: writes the state dict `sd` (reference PyTorch names) as the hfpl model of
 * one architecture into `outDir` (TF.js), checking names and shapes (strict unless
 * `allowMissing`); throws HfplError (nothing written) when the weights do not fit.
 */
export type ArchWriter = (sd: StateDict, outDir: string, opts: { input: string; allowMissing: boolean }) => Promise<ArchConversion>;

/** The reference architectures (src/models/reference): TF.js model + model.safetensors in the folder. */
const referenceWriter = (arch: ReferenceArch): ArchWriter => async (sd, outDir, o) => {
  const opts = { input: o.input, arch, out: outDir, allowMissing: o.allowMissing };
  return { lines: describeReferenceConversion(opts, await convertReferenceWeights(opts, sd)) };
};

/** `--arch` values; entries are added by the architecture code (e.g. 'resnet38d', 'seam-resnet38'). */
export const ARCH_WRITERS: Readonly<Record<string, ArchWriter>> = Object.freeze(Object.fromEntries(REFERENCE_ARCHS.map((a) => [a, referenceWriter(a)])));

interface ConvertFlags {
  in: string;
  out: string;
  arch?: string;
  allowMissing?: boolean;
}

export function registerConvertWeights(program: Command): void {
  program
    .command('convert-weights')
    .description('convert a .pth (zip or legacy) / .safetensors / MXNet .params / TF.js checkpoint to safetensors or .pth under the reference names, or with --arch to an hfpl TF.js model')
    .requiredOption('--in <file>', 'input weights (format detected from the file)')
    .requiredOption('--out <path>', 'output .safetensors or .pth file, or a folder (<folder>/<input name>.safetensors; with --arch the TF.js model)')
    .option('--arch <name>', 'write the hfpl model of this architecture (TF.js) and report loaded/missing/unexpected names')
    .option('--allow-missing', 'with --arch: accept weights that cover only part of the model (e.g. an ImageNet backbone)')
    .action(async (f: ConvertFlags) => {
      if (f.arch === undefined) {
        if (f.allowMissing) throw new HfplError('E_CONFIG', '--allow-missing only applies with --arch');
        resolveOutput(f.in, f.out);
        const r = await convertStateDict(await readStateDict(f.in), f.in, f.out);
        for (const l of describeConversion(r)) console.log(l);
        return;
      }
      const writer = ARCH_WRITERS[f.arch];
      if (!writer) {
        const known = Object.keys(ARCH_WRITERS);
        throw new HfplError('E_CONFIG', `--arch: unknown architecture '${f.arch}'${known.length ? ` (must be one of ${known.join(', ')})` : ' (no architectures are registered in this build)'}`);
      }
      const sd = await readStateDict(f.in);
      const r = await writer(sd, f.out, { input: f.in, allowMissing: f.allowMissing ?? false });
      for (const l of r.lines) console.log(l);
    });
}

import { Option, type Command } from 'commander';
import { addScaleOptions, scaleFrom, type ScaleFlags } from './scale-flags.js';
import { HfplError } from '../../errors.js';
import { generateSynthDataset } from '../../data/synth/generate.js';
import { DEFAULT_SYNTH_PARAMS } from '../../data/synth/params.js';
import { DEFAULT_SYNTH_V2_PARAMS } from '../../data/synth/v2/params.js';
import { createReporter } from '../../util/progress.js';

/** Parses a non-negative integer option value, naming the option on failure. */
function int(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new HfplError('E_CONFIG', `--${name}: '${v}' is not a non-negative integer`);
    return Number(v);
  };
}

/** `--size S` or `--size WxH`. */
function size(v: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new HfplError('E_CONFIG', `--size: '${v}' is not S or WxH (pixels), e.g. 128 or 500x375`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

export function registerSynth(program: Command): void {
  const cmd = program
    .command('synth')
    .description('generate a synthetic VOC-layout benchmark: v1 (patterned class marks on plain bodies) or v2 (a miniature of natural photos)')
    .requiredOption('--out <dir>', 'output folder (VOC layout; an interrupted run resumes)')
    .option('--train <n>', 'training images', int('train'), 2000)
    .option('--val <n>', 'validation images', int('val'), 300)
    .addOption(new Option('--bench <name>', 'which benchmark (v2: textured bodies with one discriminative part, cluttered scenes, occlusion; see docs/benchmark-v2.md)').choices(['v1', 'v2']).default('v1'))
    .addOption(new Option('--size <S|WxH>', `image size in pixels (default ${DEFAULT_SYNTH_PARAMS.width} for v1, ${DEFAULT_SYNTH_V2_PARAMS.width}x${DEFAULT_SYNTH_V2_PARAMS.height} for v2)`).argParser(size))
    .option('--classes <k>', 'foreground classes (1-10)', int('classes'), DEFAULT_SYNTH_PARAMS.classes)
    .option('--seed <x>', 'random seed', int('seed'), DEFAULT_SYNTH_PARAMS.seed)
    .option('--force', 'rewrite every file, even of a set with other parameters')
    .option('--quiet', 'no progress bar');
  addScaleOptions(cmd).action(async (o: ScaleFlags & { out: string; train: number; val: number; bench: 'v1' | 'v2'; size?: [number, number]; classes: number; seed: number; force?: boolean; quiet?: boolean }) => {
      const t0 = performance.now();
      const common = { out: o.out, train: o.train, val: o.val, width: o.size?.[0], height: o.size?.[1], classes: o.classes, seed: o.seed, force: !!o.force };
      const r = await generateSynthDataset(o.bench === 'v2' ? { ...common, bench: 'v2' } : common, createReporter(o.quiet ? 'silent' : 'bar'), scaleFrom(o));
      const s = (performance.now() - t0) / 1000;
      console.log(`synth${r.bench === 'v2' ? ' v2' : ''}: ${r.train} train + ${r.val} val images of ${r.params.width}x${r.params.height}, ${r.params.classes} classes (${r.classNames.slice(1).join(', ')}) in ${r.out}: ${r.written} written, ${r.skipped} present, ${s.toFixed(1)} s`);
    });
}

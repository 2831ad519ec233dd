/**
 * `runFullStages` with `parallel` > 1: each variant's refinement (`refineVariant`) runs in a
 * worker thread of its own (`full-stages-thread.ts`), up to `parallel` at once. The stages of
 * one variant run in one thread either way (one libtorch thread each on the native path), so a
 * variant's numbers do not depend on where it ran; this only changes the wall time (the
 * pipeline's training stages use one core each). A thread's stage starts and ends are logged
 * with the variant's name in place of its progress bar.
 */
import { engineInfo } from '../engine/init.js';
import { compiledSibling } from '../scale/pool.js';
import { runThreadJobs, type ThreadJobEnd } from '../scale/thread-jobs.js';
import type { FullStagesOptions, VariantContext, VariantRefinement } from './full-stages.js';
import type { PipelineHooks } from './run-pipeline.js';

/** What a refinement thread gets. */
export interface RefineThreadData {
  opts: Omit<FullStagesOptions, 'parallel'>;
  variant: { name: string; camRun: string };
  ctx: VariantContext;
  engine: { backend: 'tensorflow' | 'wasm' | 'cpu'; native: boolean };
}

/** Messages of a refinement thread. */
export type RefineThreadMessage = { type: 'log'; line: string } | ThreadJobEnd<VariantRefinement>;

/** Refines every variant of `opts`, `parallel` threads at a time; results in variant order. */
export async function refineVariantsInThreads(opts: FullStagesOptions, ctx: VariantContext, parallel: number, hooks: PipelineHooks): Promise<VariantRefinement[]> {
  const info = engineInfo();
  const engine = { backend: info?.backend ?? 'wasm', native: info?.native ?? false };
  const { parallel: _p, ...rest } = opts;
  void _p;
  const entry = compiledSibling(import.meta.url, 'full-stages-thread.js');
  const jobs = opts.variants.map((variant) => ({ name: variant.name, entry, workerData: { opts: rest, variant, ctx, engine } satisfies RefineThreadData }));
  return runThreadJobs<VariantRefinement, RefineThreadMessage>(jobs, parallel, 'refinement', (i, m) => {
    if (m.type === 'log') hooks.log?.(`${opts.variants[i].name}: ${m.line}`);
  });
}

/**
 * `runFullStages` with `parallel` > 1: each variant's refinement (`refineVariant`) runs in a
 * worker thread of its own (`full-stages-thread.ts`), up to `parallel` at once. The stages of
 * one variant run in one thread either way (one libtorch thread each on the native path), so a
 * variant's numbers do not depend on where it ran; this only changes the wall time (the
 * pipeline's training stages use one core each). A thread's stage starts and ends are logged
 * with the variant's name in place of its progress bar.
 */
import { Worker } from 'node:worker_threads';
import { HfplError } from '../errors.js';
import { engineInfo } from '../engine/init.js';
import { compiledSibling } from '../scale/pool.js';
import type { TaskErrorInfo } from '../scale/tasks.js';
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
export type RefineThreadMessage =
  | { type: 'log'; line: string }
  | { type: 'done'; result: VariantRefinement }
  | { type: 'error'; error: TaskErrorInfo };

/** Refines every variant of `opts`, `parallel` threads at a time; results in variant order. */
export async function refineVariantsInThreads(opts: FullStagesOptions, ctx: VariantContext, parallel: number, hooks: PipelineHooks): Promise<VariantRefinement[]> {
  const info = engineInfo();
  const engine = { backend: info?.backend ?? 'wasm', native: info?.native ?? false };
  const { parallel: _p, ...rest } = opts;
  void _p;
  const results: VariantRefinement[] = new Array(opts.variants.length);
  let next = 0, failure: Error | null = null;
  const runOne = (i: number) => new Promise<void>((resolve) => {
    const v = opts.variants[i];
    const data: RefineThreadData = { opts: rest, variant: v, ctx, engine };
    const w = new Worker(compiledSibling(import.meta.url, 'full-stages-thread.js'), { workerData: data, execArgv: [] });
    w.on('message', (m: RefineThreadMessage) => {
      if (m.type === 'log') hooks.log?.(`${v.name}: ${m.line}`);
      else if (m.type === 'done') results[i] = m.result;
      else failure ??= new HfplError((m.error.code ?? 'E_RUN') as HfplError['code'], m.error.code ? m.error.message : `${v.name}: refinement failed in a thread: ${m.error.message}`);
    });
    w.on('error', (e) => {
      failure ??= new HfplError('E_RUN', `${v.name}: refinement thread crashed: ${e.message}`);
    });
    w.on('exit', () => {
      if (!results[i]) failure ??= new HfplError('E_RUN', `${v.name}: refinement thread exited without a result`);
      resolve();
    });
  });
  const lane = async () => {
    while (next < opts.variants.length && !failure) await runOne(next++);
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  if (failure) throw failure;
  return results;
}

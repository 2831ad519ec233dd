/**
 * Per-image tasks: what one worker (a thread of this process, or a `hfpl worker` process on
 * any machine) does for one image of a stage. A stage describes its work as a task name plus a
 * JSON-serialisable `setup` (paths, options); `createTask(name, setup)` builds the task once per
 * worker (loading the model and preparing the engine there) and `run(item)` processes one image,
 * writing its outputs atomically under names keyed by the image id, so running an image twice
 * (a retried or recovered job) writes the same bytes again: at-least-once becomes exactly-once in effect.
 */
import { HfplError } from '../errors.js';

/** One unit of work: an image id and what the task needs to know about it beside the setup. */
export interface ImageItem {
  id: string;
  /** Per-image data (e.g. image path and labels), JSON-serialisable. */
  data?: unknown;
}

/** A stage's per-image work inside one worker. */
export interface ImageTask {
  /** Processes one image; returns a small JSON-serialisable result merged by the caller in order. */
  run(item: ImageItem): Promise<unknown>;
  /** Optional partial state accumulated over the images this worker ran (e.g. eval counts). */
  finish?(): unknown;
  /** Frees models and engine memory. */
  close?(): void | Promise<void>;
}

/** Builds a task from its setup (runs inside the worker). */
export type TaskFactory = (setup: never) => Promise<ImageTask>;

/** The stages that run per image on many cores or machines. */
export const TASK_NAMES = ['crf', 'infer-cam', 'infer-aff', 'infer-seg', 'eval', 'synth'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

// Lazy imports: a CRF worker never loads the networks, and stage modules may import this one.
const loaders: Record<TaskName, () => Promise<TaskFactory>> = {
  crf: async () => (await import('../infer/crf/run-crf.js')).createCrfTask as TaskFactory,
  'infer-cam': async () => (await import('../infer/cam-run.js')).createInferCamTask as TaskFactory,
  'infer-aff': async () => (await import('../infer/infer-aff.js')).createInferAffTask as TaskFactory,
  'infer-seg': async () => (await import('../infer/infer-seg.js')).createInferSegTask as TaskFactory,
  eval: async () => (await import('../eval/run-eval.js')).createEvalTask as TaskFactory,
  synth: async () => (await import('../data/synth/generate.js')).createSynthTask as TaskFactory,
};

/** True when `name` is a known task. */
export function isTaskName(name: string): name is TaskName {
  return (TASK_NAMES as readonly string[]).includes(name);
}

/** Builds the task `name` from `setup` (in the calling thread). */
export async function createTask(name: string, setup: unknown): Promise<ImageTask> {
  if (!isTaskName(name)) throw new HfplError('E_CONFIG', `unknown task '${name}' (known: ${TASK_NAMES.join(', ')})`);
  const factory = await loaders[name]();
  return (factory as (s: unknown) => Promise<ImageTask>)(setup);
}

/** A serialisable description of an error raised by a task on one image. */
export interface TaskErrorInfo {
  /** HfplError code, or undefined for an unexpected error (a bug or a crash). */
  code?: string;
  message: string;
}

/** Describes `e` for sending across threads or processes. */
export function describeTaskError(e: unknown): TaskErrorInfo {
  if (e instanceof HfplError) return { code: e.code, message: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

/** The one-line error of a failed image: the stage's own message when it names the problem, else the id and what happened. */
export function taskError(label: string, id: string, info: TaskErrorInfo): HfplError {
  if (info.code) return new HfplError(info.code as HfplError['code'], info.message.includes(id) ? info.message : `image ${id}: ${info.message}`);
  return new HfplError('E_RUN', `${label}: image ${id} failed in a worker: ${info.message}`);
}

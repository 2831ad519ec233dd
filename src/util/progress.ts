/**
 * Progress and metrics. Long work reports through a `ProgressReporter` (start, step, end);
 * library code never writes to the console itself. `createReporter('bar')` draws a bar with
 * rate and ETA on a TTY (plain periodic lines otherwise), 'silent' draws nothing.
 * `JsonlWriter` appends one JSON object per line (metrics logs).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ProgressEvent {
  /** Work done so far (e.g. steps or images), never decreasing. */
  done: number;
  total: number;
  /** Short values to show beside the bar, e.g. { loss: 0.41 }. */
  info?: Record<string, number | string>;
}

export interface ProgressReporter {
  start(label: string, total: number, unit?: string): void;
  step(event: ProgressEvent): void;
  end(summary?: Record<string, number | string>): void;
}

export const silentReporter: ProgressReporter = { start() {}, step() {}, end() {} };

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function fmtInfo(info?: Record<string, number | string>): string {
  if (!info) return '';
  return Object.entries(info)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : v}`)
    .join('  ');
}

/** A progress bar on stderr: `label [#####-----] 50/100 12.3 img/s ETA 0:04 loss 0.41`. */
export class BarReporter implements ProgressReporter {
  private label = '';
  private total = 0;
  private unit = 'it';
  private t0 = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastDone = 0;
  /** Items already done when the bar started (a resumed run's first event), left out of the rate. */
  private base: number | null = null;
  /** `now` (milliseconds) is the clock; tests pass their own so that rates do not depend on timers. */
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 200,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(label: string, total: number, unit = 'it'): void {
    this.label = label;
    this.total = total;
    this.unit = unit;
    this.t0 = this.now();
    this.lastDraw = Number.NEGATIVE_INFINITY; // the first event after start() draws
    this.lastDone = 0;
    this.base = null;
  }

  line(e: ProgressEvent): string {
    const elapsed = (this.now() - this.t0) / 1000;
    const rate = (e.done - (this.base ?? 0)) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (e.total - e.done) / rate : e.done >= e.total ? 0 : Number.NaN;
    const width = 24;
    const filled = e.total > 0 ? Math.min(width, Math.round((width * e.done) / e.total)) : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `${this.label} [${bar}] ${e.done}/${e.total} ${rate.toFixed(1)} ${this.unit}/s ETA ${fmtTime(eta)} ${fmtInfo(e.info)}`.trimEnd();
  }

  step(e: ProgressEvent): void {
    this.lastDone = e.done;
    // A first event within 20 ms of start() is work found done (a resume), not work done now.
    const now = this.now();
    this.base ??= now - this.t0 < 20 ? e.done : 0;
    const tty = this.stream.isTTY;
    if (now - this.lastDraw < (tty ? this.intervalMs : 10_000) && e.done < e.total) return;
    this.lastDraw = now;
    if (tty) this.stream.write(`\r\x1b[K${this.line(e)}`);
    else this.stream.write(this.line(e) + '\n');
  }

  end(summary?: Record<string, number | string>): void {
    const elapsed = (this.now() - this.t0) / 1000;
    const msg = `${this.label}: ${this.lastDone} ${this.unit} in ${fmtTime(elapsed)} ${fmtInfo(summary)}`.trimEnd();
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${msg}\n` : msg + '\n');
  }
}

export function createReporter(kind: 'bar' | 'silent' = 'bar'): ProgressReporter {
  return kind === 'silent' ? silentReporter : new BarReporter();
}

/** Appends JSON objects, one per line, to a file (created with its folder). */
export class JsonlWriter {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }
}

/**
 * The progress bar's rate and ETA: work found done when a bar starts (a resumed stage reports it
 * at once) is not counted as done now, so a fully reused stage shows 0 items/s and ETA 0:00
 * instead of millions of items per second; work done after the start is.
 */
import { describe, expect, it } from 'vitest';
import { BarReporter } from '../../src/util/progress.js';

/** A clock the test moves by hand, in milliseconds. */
function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A non-TTY bar on a fake stream and a hand-moved clock; `lines` holds what it wrote. */
function fakeBar() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WriteStream;
  const clock = fakeClock();
  return { lines, clock, bar: new BarReporter(stream, 200, clock.now) };
}

describe('BarReporter', () => {
  it('a resumed stage: items found done are left out of the rate', () => {
    const { lines, clock, bar: r } = fakeBar();
    r.start('infer-cam val', 150, 'img');
    clock.advance(5);
    r.step({ done: 150, total: 150 });
    expect(lines[0]).toBe('infer-cam val [########################] 150/150 0.0 img/s ETA 0:00');
  });

  it('items done after the start give the rate and the ETA', () => {
    const { lines, clock, bar: r } = fakeBar();
    r.start('train', 100, 'img');
    clock.advance(2000);
    r.step({ done: 50, total: 100 });
    // 50 items in 2 s: 25 img/s, 50 left, ETA 2 s (non-TTY draws at the first event and the last)
    expect(lines[0]).toBe('train [############------------] 50/100 25.0 img/s ETA 0:02');
    clock.advance(2000);
    r.step({ done: 100, total: 100 });
    expect(lines.at(-1)).toBe('train [########################] 100/100 25.0 img/s ETA 0:00');
  });
});

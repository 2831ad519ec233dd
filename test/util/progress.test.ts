/**
 * The progress bar's rate and ETA: work found done when a bar starts (a resumed stage reports it
 * at once) is not counted as done now, so a fully reused stage shows 0 items/s and ETA 0:00
 * instead of millions of items per second; work done after the start is.
 */
import { describe, expect, it } from 'vitest';
import { BarReporter } from '../../src/util/progress.js';

function fakeStream() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WriteStream };
}

describe('BarReporter', () => {
  it('a resumed stage: items found done are left out of the rate', () => {
    const { lines, stream } = fakeStream();
    const r = new BarReporter(stream);
    r.start('infer-cam val', 150, 'img');
    r.step({ done: 150, total: 150 });
    expect(lines[0]).toBe('infer-cam val [########################] 150/150 0.0 img/s ETA 0:00');
  });

  it('items done after the start give the rate and the ETA', async () => {
    const { lines, stream } = fakeStream();
    const r = new BarReporter(stream);
    r.start('train', 100, 'img');
    await new Promise((res) => setTimeout(res, 60));
    r.step({ done: 50, total: 100 });
    r.step({ done: 100, total: 100 });
    const m = /100\/100 ([\d.]+) img\/s ETA 0:00$/.exec(lines.at(-1)!);
    expect(m).not.toBeNull();
    const rate = Number(m![1]);
    expect(rate).toBeGreaterThan(100 / 5); // 100 items in well under 5 s
    expect(rate).toBeLessThan(100 / 0.06 + 1e-9); // and at least 60 ms
  });
});

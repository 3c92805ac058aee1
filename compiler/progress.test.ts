import { describe, expect, it } from 'vitest';
import { progressBar } from './progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { stream: { isTTY, columns: 80, write: (s: string) => (out.push(s), true) }, out };
}

describe('progress bar', () => {
  it('is silent when stderr is not a terminal', () => {
    const { stream, out } = sink(false);
    const p = progressBar(stream, () => 0);
    p('quantizing', 1, 2);
    p('quantizing', 2, 2);
    expect(out).toEqual([]);
  });

  it('does not cut the line when the terminal reports 0 columns (script, some CI ptys)', () => {
    const out: string[] = [];
    const p = progressBar({ isTTY: true, columns: 0, write: (s: string) => (out.push(s), true) }, () => 0);
    p('writing', 1, 1);
    expect(out[0].endsWith('100% 0.0s\n')).toBe(true);
  });

  it('redraws one line at most every 100 ms and ends a finished step with a newline', () => {
    const { stream, out } = sink(true);
    let t = 0;
    const p = progressBar(stream, () => t);
    p('quantizing', 0, 4);
    t = 50;
    p('quantizing', 1, 4); // too soon: skipped
    t = 150;
    p('quantizing', 2, 4);
    t = 160;
    p('quantizing', 4, 4); // finished: always drawn
    expect(out).toHaveLength(3);
    expect(out[1]).toBe(`\r\x1b[2Kquantizing [${'#'.repeat(15)}${'.'.repeat(15)}]  50% 0.1s`);
    expect(out[2].endsWith(' 100% 0.2s\n')).toBe(true);
    t = 170;
    p('writing', 1, 10); // a new step starts its own clock
    expect(out[3]).toContain('writing [###...');
    expect(out[3]).toContain('10% 0.0s');
  });
});

// Progress of long steps (calibration, quantization, writing) as one redrawn line on stderr.
// Passes and targets report (step, done, total) through a Progress function; the CLI shows a bar
// only when stderr is a terminal and --json is off, so logs and pipes stay clean.

/** Reports that `done` of `total` units of `step` are finished (done === total ends the step). */
export type Progress = (step: string, done: number, total: number) => void;

export const noProgress: Progress = () => {};

/** Minimum time between redraws. */
const REDRAW_MS = 100;
const WIDTH = 30;

export interface BarStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(s: string): boolean;
}

/**
 * A Progress that draws `step [#####.....] 42% 12.3s` on a terminal and does nothing otherwise
 * (a file, a pipe, CI logs).
 */
export function progressBar(stream: BarStream = process.stderr, now: () => number = () => performance.now()): Progress {
  if (!stream.isTTY) return noProgress;
  let current = '';
  let started = 0;
  let last = -Infinity;
  return (step, done, total) => {
    const t = now();
    if (step !== current) {
      current = step;
      started = t;
      last = -Infinity;
    }
    const finished = done >= total;
    if (!finished && t - last < REDRAW_MS) return;
    last = t;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const fill = Math.round(frac * WIDTH);
    const line = `${step} [${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${((t - started) / 1000).toFixed(1)}s`;
    const max = (stream.columns || 80) - 1;
    // \r + erase line: redraw in place; a finished step keeps its line.
    stream.write(`\r\x1b[2K${line.slice(0, max)}${finished ? '\n' : ''}`);
  };
}

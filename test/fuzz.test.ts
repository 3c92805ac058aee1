// Seeded fuzzing of hostile checkpoints: mutated config.json values and safetensors headers go
// through `llamac inspect` and the importer (test/fuzz-driver.ts, in a child process with a heap
// limit and a timeout). Every case must end in one clean `llamac: error:` line or a model whose
// forward pass is finite: never a crash, a hang, a NaN model, an internal error or a stack trace.
// FUZZ_SEED / FUZZ_CASES / FUZZ_BUDGET_MS reproduce or extend a run; a failure names the case.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers.js';
import { removeTranspiled, transpileCli } from './transpiled.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 15);
const MAX_CASES = Number(process.env['FUZZ_CASES'] ?? 2000);
/** The loop's own budget: about a minute on 2 cores with the imports and the final checks. */
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 45_000);
/** Cases the budget must at least cover for the run to mean something, even on a loaded machine. */
const MIN_CASES = 150;

let js = '';
beforeAll(() => {
  js = transpileCli(['fuzz-driver.ts']);
});
afterAll(() => removeTranspiled(js));

interface CaseLine {
  i: number;
  fixture: string;
  what: string;
  outcome: string;
  detail: string;
  ms: number;
}

it(`mutated configs and safetensors headers (seed ${SEED}): a clean error or a finite model, every time`, async () => {
  const work = tempDir();
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=768', join(js, 'test', 'fuzz-driver.js'), join(ROOT, 'fixtures'), work, String(SEED), String(MAX_CASES), String(BUDGET_MS)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A hang in one case would run past the budget: the last case started is the culprit.
  const timer = setTimeout(() => child.kill('SIGKILL'), BUDGET_MS + 30_000);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  clearTimeout(timer);

  const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Partial<CaseLine> & { start?: number });
  const done = lines.filter((l): l is CaseLine & { start?: number } => l.outcome !== undefined);
  const lastStart = [...lines].reverse().find((l) => l.start !== undefined);
  expect(exit, `driver died (${stderr.slice(-2000)}) during case ${JSON.stringify(lastStart)}`).toEqual({ code: 0, signal: null });

  const failures = done.filter((c) => c.outcome !== 'ok' && c.outcome !== 'error');
  const describe = (c: CaseLine) => `case ${c.i} (${c.fixture}: ${c.what}): ${c.outcome}: ${c.detail.slice(0, 400)}`;
  expect(failures.map(describe)).toEqual([]);
  // A case that takes seconds is a hang in the making (the 10^12-layer config took minutes).
  expect(done.filter((c) => c.ms > 5000).map(describe)).toEqual([]);
  expect(done.length).toBeGreaterThanOrEqual(MIN_CASES);
  const count = (o: string) => done.filter((c) => c.outcome === o).length;
  // Both outcomes occur: the mutations are neither all fatal nor all harmless.
  expect(count('ok')).toBeGreaterThan(10);
  expect(count('error')).toBeGreaterThan(10);
  console.log(`fuzz seed ${SEED}: ${done.length} cases, ${count('error')} clean errors, ${count('ok')} finite models`);
}, BUDGET_MS + 120_000);

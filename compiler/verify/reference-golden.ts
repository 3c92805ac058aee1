// A golden set made by running another runner (the reference interpreter) on the cases of a real
// golden set: how a target is held to the interpreter on the same quantized graph.

import { runCase, type ModelRunner } from '../targets/runner.js';
import type { Golden, GoldenCase } from './golden.js';
import { argmax } from './metrics.js';

export async function goldenFromRunner(source: Golden, runner: ModelRunner): Promise<Golden> {
  const V = runner.vocabSize;
  const cases: GoldenCase[] = [];
  for (const c of source.cases) {
    const logits = await runCase(runner, c.inputIds, c.startPosition);
    cases.push({ ...c, logits });
  }
  let greedy: Golden['greedy'] = null;
  if (source.greedy) {
    const prompt = cases.find((c) => c.name === source.greedy?.prompt);
    if (prompt) {
      // Free-running greedy decode by the reference: its own choices are the tokens to match.
      const n = source.greedy.newTokens.length;
      const first = await runCase(runner, prompt.inputIds, prompt.startPosition);
      const rows = new Float32Array(n * V);
      const chosen: number[] = [];
      let row = first.subarray((prompt.inputIds.length - 1) * V);
      for (let i = 0; i < n; i++) {
        rows.set(row, i * V);
        chosen.push(argmax(row));
        if (i + 1 < n) row = await runner.decode(chosen[i]);
      }
      greedy = { prompt: source.greedy.prompt, newTokens: chosen, stepLogits: rows };
    }
  }
  return { ...source, dir: `${source.dir} (as computed by ${runner.target})`, cases, greedy, tensor: source.tensor, tensorShape: source.tensorShape };
}

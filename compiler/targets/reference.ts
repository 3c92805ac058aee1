// The reference target: the interpreter itself. Its "artifact" is the final IR text, so
// `llamac compile --target reference` shows exactly what every other target must match.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printGraph } from '../ir/printer.js';
import { DEFAULT_PIPELINE } from '../passes/registry.js';
import { referenceRunner } from './runner.js';
import type { Target } from './target.js';

export const referenceTarget: Target = {
  name: 'reference',
  pipeline: DEFAULT_PIPELINE,
  emit: async (graph, outDir) => {
    writeFileSync(join(outDir, 'model.ir'), printGraph(graph));
  },
  load: async (_dir, graph, ctx) => referenceRunner(graph, ctx.reader),
};

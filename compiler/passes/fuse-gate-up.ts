// fuse-gate-up: the MLP's gate and up projections read one normed input; one linear over the
// stacked weights (gate rows first, as swiglu wants) and a split give the same two values.

import type { AnyNode, Graph } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite, stackLinears, stackableRows } from './rewrite.js';

export function fuseGateUp(g: Graph): Graph {
  const rw = new Rewrite(g);
  for (const mul of g.nodes) {
    if (mul.op !== 'mul') continue;
    // mul(silu(gate(x)), up(x)) in either operand order; the silu side is the gate.
    for (const [a, b] of [[0, 1], [1, 0]]) {
      const silu = rw.index.producedBy(mul.inputs[a], 'silu');
      const gate: AnyNode | undefined = silu && rw.index.producedBy(silu.inputs[0], 'linear');
      const up = rw.index.producedBy(mul.inputs[b], 'linear');
      if (!gate || !up || rw.claimed(gate) || rw.claimed(up)) continue;
      const rows = stackableRows([gate, up]);
      if (rows) {
        stackLinears(rw, [gate, up], rows);
        break;
      }
    }
  }
  return rw.finish();
}

export const fuseGateUpPass: Pass = {
  name: 'fuse-gate-up',
  description: 'gate/up projections reading one input => one linear over lazily stacked weights (gate rows first) + split',
  run: (g) => fuseGateUp(g),
};

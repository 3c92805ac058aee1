// fuse-swiglu: split(gu) -> silu(gate), mul(silu, up) ==> swiglu(gu), the MLP activation as one op
// over the stacked gate|up columns. Only when the intermediates are read by the pattern alone.

import type { Graph } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite, scopedName } from './rewrite.js';

export function fuseSwiglu(g: Graph): Graph {
  const rw = new Rewrite(g);
  const ix = rw.index;
  for (const mul of g.nodes) {
    if (mul.op !== 'mul') continue;
    for (const [a, b] of [[0, 1], [1, 0]]) {
      const silu = ix.producedBy(mul.inputs[a], 'silu');
      const split = silu && ix.producedBy(silu.inputs[0], 'split');
      if (!silu || !split || rw.claimed(split)) continue;
      const [gate, up] = split.outputs;
      // swiglu reads gate as the first half of the columns and up as the second.
      const halves = split.outputs.length === 2 && split.attrs.sizes[0] === split.attrs.sizes[1];
      if (!halves || silu.inputs[0].id !== gate.id || mul.inputs[b].id !== up.id) continue;
      if (!ix.onlyUsedBy(gate, silu) || !ix.onlyUsedBy(up, mul) || !ix.onlyUsedBy(silu.outputs[0], mul)) continue;
      rw.replace([split, silu, mul], [{ op: 'swiglu', name: rw.nodeName(scopedName([silu.name, mul.name], 'swiglu')), inputs: split.inputs, outputs: mul.outputs, attrs: {} }]);
      break;
    }
  }
  return rw.finish();
}

export const fuseSwigluPass: Pass = {
  name: 'fuse-swiglu',
  description: 'split(gate|up) -> silu, mul => swiglu over the stacked columns',
  run: (g) => fuseSwiglu(g),
};

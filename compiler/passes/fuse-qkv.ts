// fuse-qkv: the q, k and v projections of an attention read one normed input; one linear over the
// stacked weights (a lazy concat_rows: nothing is read) and a split give the same three values.

import type { AnyNode, Graph, Value } from '../ir/graph.js';
import type { Pass } from './pass.js';
import { Rewrite, stackLinears, stackableRows } from './rewrite.js';

/** The linear behind an attention operand, looking through a RoPE applied to it. */
function projection(rw: Rewrite, v: Value): AnyNode | undefined {
  const rope = rw.index.producedBy(v, 'rope');
  return rw.index.producedBy(rope ? rope.inputs[0] : v, 'linear');
}

export function fuseQkv(g: Graph): Graph {
  const rw = new Rewrite(g);
  for (const att of g.nodes) {
    if (att.op !== 'attention') continue;
    const linears = att.inputs.slice(0, 3).map((v) => projection(rw, v));
    const [q, k, v] = linears;
    if (!q || !k || !v || linears.some((l) => l && rw.claimed(l))) continue;
    const rows = stackableRows([q, k, v]);
    if (rows) stackLinears(rw, [q, k, v], rows);
  }
  return rw.finish();
}

export const fuseQkvPass: Pass = {
  name: 'fuse-qkv',
  description: 'q/k/v projections reading one input => one linear over lazily stacked weights (concat_rows) + split',
  run: (g) => fuseQkv(g),
};
